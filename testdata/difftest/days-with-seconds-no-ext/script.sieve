require ["vacation"];
vacation :days 1 :seconds 5 "I am away";
