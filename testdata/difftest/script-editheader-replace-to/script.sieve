require ["vacation", "editheader"];
deleteheader "To";
addheader "To" "bob@example.com";
vacation "gone";
