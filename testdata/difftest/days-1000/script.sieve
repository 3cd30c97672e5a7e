require ["vacation"];
vacation :days 1000 "I am away";
