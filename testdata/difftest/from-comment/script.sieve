require ["vacation"];
vacation :from "bob@example.com (Bob)" "I am away";
