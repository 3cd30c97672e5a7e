require "variables";
require "vacation";
require "fileinto";
require "envelope";
require "mailbox";
require "imap4flags";
require "regex";
require "relational";
require "date";
require "comparator-i;ascii-numeric";
require "spamtestplus";

if spamtest :percent :value "gt" :comparator "i;ascii-numeric" "80"
{
  setflag "\\seen";
  fileinto :create "Junk";
  stop;
}

if currentdate :value "le" "date" "2027-01-31"
{
  if currentdate :value "ge" "date" "2026-11-01"
  {
    vacation :days 1 :subject "Out of office" "I am away.";
  }
}
