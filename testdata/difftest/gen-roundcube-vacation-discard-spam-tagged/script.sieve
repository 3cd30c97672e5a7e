require ["vacation"];
# rule:[Autoreply]
if true
{
	vacation :days 2 :subject "Auto-reply: ${subject}" "Thank you for your message. I will not read mail until 4 January.";
	discard;
}
