require ["vacation"];
vacation :subject "Abwesend: Grüße aus München" "I am away";
