require ["vacation", "reject"];
if header :contains "subject" "spam" {
  reject "no";
} else {
  vacation "gone";
}
