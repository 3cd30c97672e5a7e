require ["vacation", "spamtest", "fileinto", "relational", "comparator-i;ascii-numeric"];
if spamtest :value "ge" :comparator "i;ascii-numeric" "3" {
  fileinto "Junk";
}
vacation "gone";
