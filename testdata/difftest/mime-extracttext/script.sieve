require ["foreverypart", "mime", "extracttext", "variables", "fileinto"];
foreverypart {
  extracttext :first 3 :upper "t";
  if string :is "${t}" "TWO" { fileinto "two"; }
  if header :mime :contenttype "content-type" "text/html" {
    extracttext "h";
    if string :contains "${h}" "three" { fileinto "html-text"; }
  }
}
