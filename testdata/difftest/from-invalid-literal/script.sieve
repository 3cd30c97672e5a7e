require ["vacation"];
vacation :from "not an address" "I am away";
