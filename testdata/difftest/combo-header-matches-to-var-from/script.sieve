require ["vacation", "variables"];
if address :matches "to" "*@*" {
  set "me" "${1}@${2}";
}
vacation :from "${me}" :addresses ["${me}"] "gone";
