require ["vacation", "imap4flags", "fileinto"];
setflag "\\Flagged";
fileinto "Flagged";
vacation "gone";
