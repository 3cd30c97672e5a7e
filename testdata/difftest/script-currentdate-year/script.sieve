require ["vacation", "date", "relational"];
if currentdate :value "ge" "year" "2020" {
  vacation "gone";
}
