require ["vacation", "editheader"];
deleteheader "Subject";
vacation "gone";
