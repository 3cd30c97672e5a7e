require ["vacation"];
vacation :addresses ["Team <team@example.com>"] "I am away";
