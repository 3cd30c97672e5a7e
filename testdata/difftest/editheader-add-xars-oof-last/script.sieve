require ["vacation", "editheader"];
addheader :last "X-Auto-Response-Suppress" "DR, OOF";
vacation "gone";
