require ["vacation", "imap4flags"];
addflag "\\Seen";
vacation "gone";
