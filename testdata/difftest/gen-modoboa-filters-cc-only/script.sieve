require ["fileinto", "vacation"];

# Filter: junk
if anyof (header :contains "X-Spam-Flag" "YES") {
    fileinto "Junk";
}
# Filter: newsletters
if anyof (header :contains "List-Unsubscribe" "", header :is "Precedence" "bulk") {
    fileinto "Newsletters";
    stop;
}
# Filter: autoreply
if true {
    vacation :days 1 :subject "Autoreply" "I am not available right now.";
}
