require ["vacation"];
vacation :subject "ÄÖÜäöüßÄÖÜäöüß" "I am away";
