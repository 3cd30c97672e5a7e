require ["vacation", "editheader"];
deleteheader "To";
vacation "gone";
