require ["vacation"];
vacation :subject "On holiday 🏖️" "I am away";
