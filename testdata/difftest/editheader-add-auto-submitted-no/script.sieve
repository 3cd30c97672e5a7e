require ["vacation", "editheader"];
addheader "Auto-Submitted" "no";
vacation "gone";
