require ["vacation"];
# rule:[Abwesenheit]
if true
{
	vacation :days 7 :subject "Abwesenheitsnotiz: ${subject}" :from "=?UTF-8?B?QsO2Yg==?= <bob@example.com>" :addresses ["bob@example.com","sales@example.com"] text:
Vielen Dank für Ihre Nachricht. Ich bin bis zum 4. Januar nicht im Büro.
.
;
}
