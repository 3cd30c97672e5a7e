require ["vacation"];
vacation :addresses ["bob@example.net", "team@example.com"] "I am away";
