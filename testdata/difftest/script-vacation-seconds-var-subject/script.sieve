require ["vacation", "vacation-seconds", "variables"];
set "s" "x";
vacation :seconds 3600 :subject "${s}" "gone";
