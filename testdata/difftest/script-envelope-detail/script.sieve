require ["vacation", "envelope", "subaddress"];
if envelope :detail "to" "ooo" {
  vacation "gone";
}
