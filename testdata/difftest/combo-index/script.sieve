require ["vacation", "index", "variables"];
if header :index 1 :matches "received" "from * by *" {
  vacation :subject "via ${1}" "gone";
} else {
  vacation :subject "no received" "gone";
}
