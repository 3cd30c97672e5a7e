require "vacation";
if anyof (exists "list-id", header :contains "precedence" ["bulk", "list"]) {
  keep;
} else {
  vacation "gone";
}
