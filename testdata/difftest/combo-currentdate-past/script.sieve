require ["vacation", "date", "relational"];
if allof (currentdate :value "ge" "date" "2001-01-01", currentdate :value "le" "date" "2001-12-31") {
  vacation :days 1 :subject "Away" "gone";
}
