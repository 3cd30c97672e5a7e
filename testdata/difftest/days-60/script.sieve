require ["vacation"];
vacation :days 60 "I am away";
