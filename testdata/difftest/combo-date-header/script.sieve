require ["vacation", "date", "relational"];
if date :value "ge" :originalzone "date" "date" "2023-12-31" {
  vacation :subject "New year" "gone";
}
