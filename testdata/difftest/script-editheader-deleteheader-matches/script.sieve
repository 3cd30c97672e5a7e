require ["vacation", "editheader"];
deleteheader :matches "X-Auto-Response-Suppress" "*OOF*";
vacation "gone";
