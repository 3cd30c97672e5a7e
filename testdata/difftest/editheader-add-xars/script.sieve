require ["vacation", "editheader"];
addheader "X-Auto-Response-Suppress" "OOF";
vacation "gone";
