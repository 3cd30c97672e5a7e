# A script shaped like the one Mailu generates per user.
require ["variables", "vacation", "fileinto", "envelope", "mailbox", "imap4flags", "regex", "relational", "date", "comparator-i;ascii-numeric", "spamtestplus", "editheader", "index"];

if header :index 1 :matches "Received" "from * by * for <*>; *" {
  set "received_for" "${3}";
}

if spamtest :percent :value "gt" :comparator "i;ascii-numeric" "80" {
  setflag "\\seen";
  fileinto :create "Junk";
  stop;
}

if allof (currentdate :value "ge" "iso8601" "2026-01-01T00:00:00Z",
          currentdate :value "le" "iso8601" "2099-12-31T23:59:59Z") {
  vacation :days 1 :subject "Out of office" :from "bob@example.com"
    "I am out of the office until further notice. I will read your mail when I am back.";
}

if header :regex "subject" "^\\[(urgent|important)\\]" {
  addflag "\\flagged";
}

keep;
