require ["vacation"];
vacation :subject "" "I am away";
