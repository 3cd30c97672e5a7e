require ["vacation", "editheader"];
addheader "Cc" "bob@example.com";
vacation "gone";
