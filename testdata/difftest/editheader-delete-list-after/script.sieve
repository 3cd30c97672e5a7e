require ["vacation", "editheader"];
vacation "gone";
deleteheader "List-Id";
