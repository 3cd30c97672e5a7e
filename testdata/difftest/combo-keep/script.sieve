require "vacation";
keep;
vacation "gone";
