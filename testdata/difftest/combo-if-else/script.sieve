require "vacation";
if header :contains "subject" "urgent" {
  keep;
} elsif address :is "from" "alice@example.org" {
  vacation :subject "Away" "gone";
} else {
  discard;
}
