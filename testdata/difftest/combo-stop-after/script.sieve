require ["vacation", "fileinto"];
vacation "gone";
stop;
fileinto "Never";
