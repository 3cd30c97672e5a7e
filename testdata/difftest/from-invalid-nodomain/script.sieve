require ["vacation"];
vacation :from "bob" "I am away";
