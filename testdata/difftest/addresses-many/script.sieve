require ["vacation"];
vacation :addresses ["a@example.com", "b@example.com", "c@example.com", "team@example.com"] "I am away";
