require ["vacation", "variables"];
set "a" "team@example.com";
vacation :addresses ["${a}"] "I am away";
