require ["vacation", "relational", "comparator-i;ascii-numeric"];
if address :count "gt" :comparator "i;ascii-numeric" ["to", "cc"] "2" {
  discard;
} else {
  vacation "gone";
}
