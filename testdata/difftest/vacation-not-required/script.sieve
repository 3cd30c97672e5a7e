vacation "I am away";
