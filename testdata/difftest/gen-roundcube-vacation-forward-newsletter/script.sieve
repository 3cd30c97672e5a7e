require ["vacation","copy"];
# rule:[Vacation]
if true
{
	vacation :days 1 :subject "Re: ${subject}" "I'm away. Urgent matters: carol@example.com";
	redirect :copy "carol@example.com";
}
