require ["vacation"];
vacation :subject "He said \"away\"" "I am away";
