require ["vacation", "variables"];
set "f" "";
vacation :from "${f}" "I am away";
