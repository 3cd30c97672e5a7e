require ["vacation", "variables"];
set "f" "Bob <bob@example.com>";
vacation :from "${f}" "I am away";
