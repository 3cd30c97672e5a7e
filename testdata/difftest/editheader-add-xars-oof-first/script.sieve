require ["vacation", "editheader"];
addheader "X-Auto-Response-Suppress" "OOF, DR";
vacation "gone";
