require "vacation";
if address :all :is "to" "BOB@example.com" {
  vacation "gone";
}
