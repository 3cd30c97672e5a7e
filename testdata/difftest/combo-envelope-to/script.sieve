require ["vacation", "envelope"];
if envelope :localpart :is "to" "bob" {
  vacation :subject "Env" "gone";
}
