require "vacation";

if allof(not header :contains "X-Spam-Flag" "YES", address :domain :contains "from" "example.org") { vacation :addresses [ "bob@example.com" ] :days 7 text:
I am out of office.
.
; }
