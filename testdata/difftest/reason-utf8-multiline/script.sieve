require ["vacation"];
vacation :subject "Away" text:
Ich bin bis Montag weg.
Grüße
.
;
