require ["vacation", "duplicate"];
if duplicate {
  discard;
} else {
  vacation "gone";
}
