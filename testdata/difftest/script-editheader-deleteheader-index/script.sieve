require ["vacation", "editheader", "index"];
deleteheader :index 1 "List-Id";
vacation "gone";
