require ["vacation", "vacation-seconds"];
vacation :seconds 86400 "I am away";
