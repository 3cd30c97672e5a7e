require ["vacation"];
vacation :addresses ["alice@example.org"] "I am away";
