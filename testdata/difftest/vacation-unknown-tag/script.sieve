require ["vacation"];
vacation :foo 1 "I am away";
