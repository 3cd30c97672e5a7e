require ["vacation", "variables"];
if header :matches "from" "* <*@*>" {
  vacation :subject "${0}|${1}|${2}|${3}" "gone";
}
