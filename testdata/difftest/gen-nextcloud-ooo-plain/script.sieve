### Nextcloud Mail: Vacation Responder ### DON'T EDIT ###
require "date";
require "relational";
require "vacation";
# Data: {"version":1,"enabled":true,"start":"2026-11-01","end":"2027-01-31","subject":"Out of office: ${subject}","message":"I'm on holiday."}
if currentdate :value "ge" "iso8601" "2026-10-31T23:00:00Z" {
	if currentdate :value "le" "iso8601" "2027-01-31T22:59:59Z" {
		vacation :days 4 :subject "Out of office: ${subject}" :addresses ["bob@example.com"] :from "Bob <bob@example.com>" "I'm on holiday.";
	}
}
### Nextcloud Mail: Vacation Responder ### END ###
