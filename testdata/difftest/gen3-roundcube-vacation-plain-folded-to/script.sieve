require ["vacation"];
# rule:[Out of office]
if true
{
	vacation :days 7 :addresses ["bob@example.com"] :subject "Out of office" "I'm away.";
}
