require ["vacation", "vacation-seconds"];
vacation :seconds 1 "I am away";
