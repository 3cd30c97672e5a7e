require ["vacation", "variables"];
set "f" text:
bob@example.com
Bcc: evil@example.net
.
;
vacation :from "${f}" "I am away";
