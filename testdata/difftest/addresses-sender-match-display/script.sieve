require ["vacation"];
vacation :addresses ["Alice <alice@example.org>"] "I am away";
