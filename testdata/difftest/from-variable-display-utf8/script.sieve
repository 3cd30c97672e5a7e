require ["vacation", "variables"];
set "f" "Böb <bob@example.com>";
vacation :from "${f}" "I am away";
