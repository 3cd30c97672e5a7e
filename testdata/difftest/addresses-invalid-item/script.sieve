require ["vacation"];
vacation :addresses ["not valid", "team@example.com"] "I am away";
