# An example vacation script: answers each sender once every 7 days.
# Check a script with `vacationd check FILE`; try it on a message with
# `vacationd test FILE MESSAGE`.
require ["vacation"];

vacation :days 7 :subject "Out of office"
"I am away until Monday and will read your message when I am back.";
