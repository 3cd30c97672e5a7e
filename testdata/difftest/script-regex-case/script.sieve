require ["vacation", "regex", "variables"];
if header :regex :comparator "i;ascii-casemap" "subject" "^meeting (.*)$" {
  vacation :subject "${1}" "gone";
}
