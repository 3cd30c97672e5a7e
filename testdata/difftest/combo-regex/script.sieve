require ["vacation", "regex", "variables"];
if header :regex "subject" "^(Meeting) (.*)$" {
  vacation :subject "Re ${1}: ${2}" "gone";
}
