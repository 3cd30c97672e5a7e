require ["vacation", "vacation-seconds"];
vacation :seconds 99999999999 "I am away";
