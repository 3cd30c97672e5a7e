require ["vacation", "index", "variables"];
if header :index 1 :last :matches "received" "*" {
  vacation :subject "${1}" "gone";
}
