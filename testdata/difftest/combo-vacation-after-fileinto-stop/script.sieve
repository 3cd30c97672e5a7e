require ["vacation", "fileinto"];
if header :contains "subject" "Meeting" {
  fileinto "Meetings";
  stop;
}
vacation "gone";
