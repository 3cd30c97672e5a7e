require ["vacation", "editheader"];
deleteheader "Message-ID";
vacation "gone";
