require ["vacation", "relational", "comparator-i;ascii-numeric"];
if header :count "ge" :comparator "i;ascii-numeric" "received" "3" {
  discard;
} else {
  vacation "gone";
}
