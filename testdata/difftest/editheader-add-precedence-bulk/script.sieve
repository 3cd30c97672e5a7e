require ["vacation", "editheader"];
addheader "Precedence" "junk";
vacation "gone";
