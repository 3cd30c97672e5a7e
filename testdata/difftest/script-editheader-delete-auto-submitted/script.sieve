require ["vacation", "editheader"];
deleteheader "Auto-Submitted";
vacation "gone";
