require ["fileinto","imap4flags"];
if anyof (header :contains "subject" "[dev]", header :contains "list-id" "dev.lists.example.org") {
    fileinto "INBOX/Dev";
    stop;
}
if allof (header :contains "x-spam-flag" "YES") {
    addflag "\\Seen";
    fileinto "Junk";
}
