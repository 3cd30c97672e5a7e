require "vacation";
if header :contains "subject" "nomatch" {
  vacation "x";
} else {
  vacation :subject "Else" "gone";
}
