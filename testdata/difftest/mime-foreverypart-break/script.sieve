require ["foreverypart", "mime", "fileinto"];
foreverypart {
  if header :mime :subtype "content-type" "html" { fileinto "html"; break; }
  if header :mime :type "content-type" "image" { fileinto "image"; }
}
