require ["vacation", "editheader"];
vacation "gone";
addheader :last "List-Id" "<x.example.org>";
