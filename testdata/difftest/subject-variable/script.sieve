require ["vacation", "variables"];
set "s" "Away until ${d}";
set "d" "Monday";
vacation :subject "${s}" "I am away";
