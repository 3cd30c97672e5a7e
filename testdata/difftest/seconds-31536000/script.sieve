require ["vacation", "vacation-seconds"];
vacation :seconds 31536000 "I am away";
