require ["vacation", "variables"];
set "r" "back on Monday";
vacation :subject "Away" "${r}";
