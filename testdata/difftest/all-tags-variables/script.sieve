require ["vacation", "variables"];
set "s" "Away";
set "f" "Bob <bob@example.com>";
set "a" "bob@example.net";
set "h" "h1";
set "r" "I am away";
vacation :days 2 :subject "${s}" :from "${f}" :addresses ["${a}"] :handle "${h}" "${r}";
