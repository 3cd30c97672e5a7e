require ["vacation", "editheader"];
deleteheader "Precedence";
vacation "gone";
