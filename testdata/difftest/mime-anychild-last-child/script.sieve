require ["foreverypart", "mime", "fileinto"];
foreverypart {
  if allof (header :mime :subtype "content-type" "alternative",
            header :mime :anychild :subtype "content-type" "pdf") { fileinto "runs-on"; }
  if allof (header :mime :subtype "content-type" "related",
            header :mime :anychild :subtype "content-type" "pdf") { fileinto "related"; }
}
