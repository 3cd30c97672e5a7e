require ["vacation"];
vacation :days 1 "I am away";
