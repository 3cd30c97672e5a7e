require ["vacation", "variables"];
set "s" "a	b";
vacation :subject "${s}" "I am away";
