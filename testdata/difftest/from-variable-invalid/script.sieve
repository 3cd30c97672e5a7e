require ["vacation", "variables"];
set "f" "no address here";
vacation :from "${f}" "I am away";
