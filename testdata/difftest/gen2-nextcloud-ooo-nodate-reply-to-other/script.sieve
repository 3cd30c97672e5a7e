### Nextcloud Mail: Vacation Responder ### DON'T EDIT ###
require "vacation";
# Data: {"version":1,"enabled":true,"subject":"Away","message":"I'm away."}
vacation :days 4 :subject "Away" :addresses ["bob@example.com"] :from "Bob <bob@example.com>" "I'm away.";
### Nextcloud Mail: Vacation Responder ### END ###
