require ["vacation"];
vacation :from "<bob@example.com>" "I am away";
