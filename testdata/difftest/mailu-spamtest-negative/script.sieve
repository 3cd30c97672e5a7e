require ["variables", "vacation", "fileinto", "envelope", "mailbox", "imap4flags", "regex", "relational", "date", "comparator-i;ascii-numeric", "spamtestplus", "editheader", "index"];

if spamtest :percent :value "gt" :comparator "i;ascii-numeric" "80"
{
  setflag "\\seen";
  fileinto :create "Junk";
  stop;
}

if allof (currentdate :value "ge" "date" "2020-01-01", currentdate :value "le" "date" "2099-12-31")
{
  vacation :days 1 :from "Bob Builder <bob@example.com>" :subject "Out of office" "I am away until Monday.";
}
