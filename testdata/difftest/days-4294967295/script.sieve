require ["vacation"];
vacation :days 4294967295 "I am away";
