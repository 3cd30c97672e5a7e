require ["vacation", "editheader"];
addheader "Auto-Submitted" "auto-generated";
vacation "gone";
