require ["vacation", "body"];
if body :contains "yesterday" {
  vacation "gone";
}
