require "vacation";
require "date";
require "relational";

if allof(currentdate :value "ge" "date" "2026-11-01", currentdate :value "le" "date" "2027-01-31", not header :contains "X-Spam-Flag" "YES") { vacation :addresses [ "bob@example.com" ] :days 7 :subject "Out of office" text:
Dear Sender,

I am out of office and will be back in January.
.
; }
