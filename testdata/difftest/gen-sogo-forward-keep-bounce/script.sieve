require ["envelope"];
redirect "bob.private@example.net";
keep;
