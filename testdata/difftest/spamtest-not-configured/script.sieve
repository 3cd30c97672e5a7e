require ["vacation", "spamtest", "relational", "comparator-i;ascii-numeric"];
if spamtest :value "ge" :comparator "i;ascii-numeric" "5" {
  discard;
} else {
  vacation "gone";
}
