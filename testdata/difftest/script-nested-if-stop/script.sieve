require ["vacation", "fileinto"];
if address :domain "from" "example.org" {
  if header :contains "subject" "Meeting" {
    fileinto "Meetings";
    vacation "gone";
    stop;
  }
}
keep;
