require ["vacation", "fileinto"];
vacation :subject "Away" "gone";
fileinto "Work";
