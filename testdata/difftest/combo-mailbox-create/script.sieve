require ["vacation", "fileinto", "mailbox"];
fileinto :create "Holiday";
vacation "gone";
