require ["vacation", "body"];
if body :contains "tomorrow" {
  vacation :subject "body" "gone";
}
