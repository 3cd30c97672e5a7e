require ["fileinto","vacation","imap4flags"];
# rule:[Spam]
if anyof (header :contains "x-spam-flag" "YES", header :contains "subject" "*****SPAM*****")
{
	fileinto "Junk";
	stop;
}
# rule:[Lists]
if exists "list-id"
{
	fileinto "Lists";
}
# rule:[Away]
if true
{
	vacation :days 3 :subject "Away" "Back on Monday.";
}
