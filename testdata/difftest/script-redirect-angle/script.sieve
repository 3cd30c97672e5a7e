require "vacation";
vacation "gone";
redirect "<deputy@example.net>";
