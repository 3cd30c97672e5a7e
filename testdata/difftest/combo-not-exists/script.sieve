require "vacation";
if not exists "List-Id" {
  vacation "gone";
}
