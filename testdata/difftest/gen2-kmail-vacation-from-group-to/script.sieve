require "vacation";

if not header :contains "X-Spam-Flag" "YES" { keep; vacation :addresses [ "bob@example.com", "sales@example.com" ] :days 7 :from "Bob <bob@example.com>" :subject "Out of office" text:
Back on Monday.
.
; }
