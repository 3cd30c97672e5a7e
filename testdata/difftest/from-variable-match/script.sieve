require ["vacation", "variables"];
if address :matches :localpart "to" "*" {
  vacation :from "${1}@example.com" :subject "Away" "I am away";
}
