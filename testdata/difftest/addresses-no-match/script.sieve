require ["vacation"];
vacation :addresses ["team@example.com"] "I am away";
