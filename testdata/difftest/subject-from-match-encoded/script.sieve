require ["vacation", "variables"];
if header :matches "subject" "*" {
  vacation :subject "Re: ${1}" "I am away";
}
