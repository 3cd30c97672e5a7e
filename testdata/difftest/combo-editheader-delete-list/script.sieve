require ["vacation", "editheader"];
deleteheader "List-Id";
vacation "gone";
