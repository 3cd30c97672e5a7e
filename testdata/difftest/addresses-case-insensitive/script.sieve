require ["vacation"];
vacation :addresses ["Team@Example.COM"] "I am away";
