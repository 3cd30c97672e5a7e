require ["vacation"];
vacation :subject "0123456789abcdef" "I am away";
