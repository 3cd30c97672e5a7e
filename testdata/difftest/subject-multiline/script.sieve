require ["vacation"];
vacation :subject text:
line one
line two
.
 "I am away";
