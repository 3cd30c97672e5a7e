require ["mime", "fileinto"];
if header :mime :anychild :param "filename" "content-disposition" "doc.pdf" { fileinto "pdf"; }
if header :mime :anychild :param "charset" "content-type" "utf-8" { fileinto "utf8"; }
if header :mime :param "boundary" "content-type" "inner" { fileinto "wrong"; }
if exists :mime :anychild "content-disposition" { fileinto "attached"; }
