require ["fileinto","imap4flags","regex","body","copy","relational","comparator-i;ascii-numeric"];
# rule:[Big mail]
if size :over 100K
{
	addflag "\\Flagged";
	fileinto "Big";
}
# rule:[Invoices]
if anyof (header :regex "subject" "^(invoice|rechnung)[ :#-]*[0-9]+", body :text :contains "invoice number")
{
	fileinto :copy "Invoices";
}
# rule:[Example.org]
if address :domain :is "from" "shop.example.net"
{
	setflag "\\Seen";
	fileinto "Partners";
	stop;
}
# rule:[Lottery]
if header :contains "from" "lottery"
{
	discard;
	stop;
}
