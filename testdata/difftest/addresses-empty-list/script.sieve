require ["vacation"];
vacation :addresses [] "I am away";
