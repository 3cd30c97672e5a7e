require "vacation";
if true {
  keep;
} else {
  vacation "gone";
}
