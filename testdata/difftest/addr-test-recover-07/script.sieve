require ["fileinto", "relational", "comparator-i;ascii-numeric", "variables"];
if address :is "to" "bob@example.com" { fileinto "found-bob"; }
if address :is :domain "to" "x.example" { fileinto "found-dave"; }
if address :count "eq" :comparator "i;ascii-numeric" "to" "0" { fileinto "count-0"; }
if address :count "eq" :comparator "i;ascii-numeric" "to" "1" { fileinto "count-1"; }
if address :count "eq" :comparator "i;ascii-numeric" "to" "2" { fileinto "count-2"; }
if address :count "eq" :comparator "i;ascii-numeric" "to" "3" { fileinto "count-3"; }
if address :all :matches "to" "*" { set "a" "${1}"; }
if string :is "${a}" "" { fileinto "first-empty"; } else { fileinto "first-${a}"; }
