require ["vacation", "fileinto"];
fileinto "INBOX";
vacation "gone";
