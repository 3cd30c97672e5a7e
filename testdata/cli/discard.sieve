if header :contains "subject" "spam" {
  discard;
}
