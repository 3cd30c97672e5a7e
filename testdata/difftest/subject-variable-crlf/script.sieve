require ["vacation", "variables"];
set "s" text:
line1
Injected: yes
.
;
vacation :subject "${s}" "I am away";
