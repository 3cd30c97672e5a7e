require ["vacation", "vacation-seconds"];
vacation :seconds 60 :days 1 "I am away";
