require ["vacation", "imap4flags"];
setflag "\\Answered";
vacation "gone";
keep;
