require ["vacation", "fileinto"];
if header :contains "subject" "invoice" {
  fileinto "Billing";
}
vacation :days 3 :subject "Away" "I am away until Monday.";
