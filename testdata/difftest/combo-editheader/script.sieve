require ["vacation", "editheader"];
addheader "X-Vacation" "yes";
vacation "gone";
