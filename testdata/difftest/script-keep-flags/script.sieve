require ["vacation", "imap4flags"];
keep :flags "\\Seen";
vacation "gone";
