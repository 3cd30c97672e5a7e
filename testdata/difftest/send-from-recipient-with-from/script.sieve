require ["vacation"];
vacation :from "office@example.net" "I am away";
