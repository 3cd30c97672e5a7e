require ["vacation"];
vacation :from "G: bob@example.com;" "I am away";
