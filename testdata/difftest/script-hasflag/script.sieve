require ["vacation", "imap4flags"];
addflag "x";
if hasflag "x" {
  vacation :subject "flagged" "gone";
}
