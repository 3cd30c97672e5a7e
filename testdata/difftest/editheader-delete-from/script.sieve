require ["vacation", "editheader"];
deleteheader "From";
vacation "gone";
