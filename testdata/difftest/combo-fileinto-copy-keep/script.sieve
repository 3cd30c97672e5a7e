require ["vacation", "fileinto", "copy"];
fileinto :copy "Work";
vacation "gone";
