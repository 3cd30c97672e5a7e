require ["vacation", "vacation-seconds"];
vacation :seconds 0 :subject "Away" "I am away";
