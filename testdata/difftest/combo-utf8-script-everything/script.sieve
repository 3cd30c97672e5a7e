require ["vacation"];
vacation :days 2 :subject "Abwesend bis Montag – Grüße" :from "Jürgen Müller <juergen@example.com>" :addresses ["juergen@example.com"] "Ich bin bis Montag nicht im Büro.";
