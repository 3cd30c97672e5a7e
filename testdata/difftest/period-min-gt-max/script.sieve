require ["vacation"];
vacation :days 5 "I am away";
