require "vacation";
if anyof (header :is "x-spam" "yes", size :over 1M) {
  discard;
} else {
  vacation "gone";
}
