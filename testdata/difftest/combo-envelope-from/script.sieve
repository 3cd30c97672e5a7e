require ["vacation", "envelope"];
if envelope :domain :is "from" "example.org" {
  vacation :subject "Env" "gone";
}
