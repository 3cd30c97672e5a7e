require ["vacation","date","relational"];
# rule:[Out of office]
if allof (currentdate :zone "+0100" :value "ge" "date" "2026-11-01", currentdate :zone "+0100" :value "le" "date" "2027-01-31")
{
	vacation :days 7 :addresses ["bob@example.com","b.builder@example.com"] :subject "Out of office" :from "Bob <bob@example.com>" text:
Hello,

I am out of the office until 31 January. Your message will not be forwarded.

Regards,
Bob
.
;
}
