require ["vacation"];
vacation :addresses ["G: team@example.com;"] "I am away";
