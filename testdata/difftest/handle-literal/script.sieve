require ["vacation"];
vacation :handle "ooo-2024" :subject "Away" "I am away";
