require "vacation";
vacation "gone";
redirect "a@example.net";
redirect "A@example.net";
