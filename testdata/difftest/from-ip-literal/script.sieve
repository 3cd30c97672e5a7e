require ["vacation"];
vacation :from "bob@[192.0.2.1]" "I am away";
