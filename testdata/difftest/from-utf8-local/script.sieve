require ["vacation"];
vacation :from "böb@example.com" "I am away";
