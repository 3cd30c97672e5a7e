require ["vacation", "editheader"];
addheader "List-Id" "<x.example.org>";
vacation "gone";
