require ["vacation", "mailbox"];
if mailboxexists "INBOX" {
  vacation "gone";
}
