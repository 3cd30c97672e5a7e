require ["vacation", "vacation-seconds"];
vacation :seconds 5 "I am away";
