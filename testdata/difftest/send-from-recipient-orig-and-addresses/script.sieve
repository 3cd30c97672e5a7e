require ["vacation"];
vacation :addresses "alias@example.com" "I am away";
