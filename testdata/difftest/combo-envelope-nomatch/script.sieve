require ["vacation", "envelope"];
if envelope :is "from" "carol@example.org" {
  vacation "gone";
}
