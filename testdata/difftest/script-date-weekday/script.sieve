require ["vacation", "date"];
if date :is "date" "weekday" "1" {
  vacation :subject "monday" "gone";
}
