require ["vacation", "editheader"];
deleteheader "Subject";
addheader "Subject" "Changed";
vacation "gone";
