require ["vacation", "reject"];
reject "no";
vacation "gone";
