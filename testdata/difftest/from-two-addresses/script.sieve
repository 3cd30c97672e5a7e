require ["vacation"];
vacation :from "a@example.com, b@example.com" "I am away";
