# A filter script that foxcpp/go-sieve also runs (it has no vacation, regex
# or date), for the side-by-side engine comparison (bench/gosieve.sh).
require ["fileinto", "envelope", "imap4flags", "variables", "relational", "comparator-i;ascii-numeric", "subaddress"];

if header :contains "subject" ["[urgent]", "[important]", "invoice"] {
  addflag "\\Flagged";
}
if address :domain :is "from" ["lists.example.org", "news.example.net"] {
  fileinto "Lists";
  stop;
}
if envelope :detail "to" "spam" {
  fileinto "Junk";
  stop;
}
if header :matches "List-Id" "*<*>*" {
  set "list" "${2}";
  fileinto "Lists/${list}";
  stop;
}
if header :value "gt" :comparator "i;ascii-numeric" "X-Spam-Score" "5" {
  fileinto "Junk";
  stop;
}
if anyof (header :is "Precedence" ["bulk", "list", "junk"], exists "List-Unsubscribe", address :localpart :is "from" ["noreply", "no-reply"]) {
  fileinto "Bulk";
  stop;
}
if allof (address :is "to" "bob@example.com", header :contains "cc" "team@") {
  addflag "\\Seen";
  set "folder" "Team";
  fileinto "${folder}";
}
keep;
