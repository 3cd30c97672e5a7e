require ["vacation", "editheader"];
addheader "Precedence" "bulk";
vacation "gone";
