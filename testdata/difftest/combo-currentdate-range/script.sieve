require ["vacation", "date", "relational"];
if allof (currentdate :value "ge" "date" "2020-01-01", currentdate :value "le" "date" "2099-12-31") {
  vacation :days 1 :subject "Away" "gone";
}
