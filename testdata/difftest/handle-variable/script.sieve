require ["vacation", "variables"];
set "h" "x";
vacation :handle "${h}" "I am away";
