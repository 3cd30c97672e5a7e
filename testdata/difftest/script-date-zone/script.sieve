require ["vacation", "date", "variables"];
if date :zone "+0900" :matches "date" "hour" "*" {
  vacation :subject "h${1}" "gone";
}
