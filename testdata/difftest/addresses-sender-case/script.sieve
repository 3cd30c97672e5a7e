require ["vacation"];
vacation :addresses ["Alice@EXAMPLE.org"] "I am away";
