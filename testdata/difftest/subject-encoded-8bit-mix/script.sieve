require ["vacation"];
vacation :subject "=?utf-8?q?Gr=C3=BC=C3=9Fe?= und Grüße" "I am away";
