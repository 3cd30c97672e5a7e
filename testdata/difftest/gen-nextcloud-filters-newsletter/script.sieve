### Nextcloud Mail: Filters ### DON'T EDIT ###
require ["fileinto", "imap4flags"];
### Nextcloud Mail: Filters ### DON'T EDIT ###
# FILTER: [{"name":"Newsletters","enable":true,"operator":"anyof","tests":[{"operator":"contains","values":["Black Friday"],"field":"subject"}],"actions":[{"type":"fileinto","mailbox":"Newsletters"}],"priority":10}]
# Newsletters
if anyof (header :contains "Subject" ["Black Friday"]) {
fileinto "Newsletters";
}
### Nextcloud Mail: Filters ### END ###
