require ["vacation"];
vacation :from "\"Builder, Bob\" <bob@example.com>" "I am away";
