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
require "editheader";
require "index";

if header :index 2 :matches "Received" "from * by * for <*>; *"
{
  deleteheader "Delivered-To";
  addheader :last "Delivered-To" "<${3}>";
}

if header :is "X-Spam" "yes"
{
  setflag "\\seen";
  setflag "\\flagged";
  fileinto :create "Junk";
  stop;
}

if exists "X-Virus" {
  discard;
  stop;
}

if allof (currentdate :value "ge" "date" "2020-01-01", currentdate :value "le" "date" "2099-12-31")
{
  vacation :days 1 :from "Bob Builder <bob@example.com>" :subject "Out of office" "I am away until Monday.";
}
