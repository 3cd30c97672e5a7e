require ["vacation"];
vacation :days 61 "I am away";
