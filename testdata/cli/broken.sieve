require "vacation";
vacation :from "not an address" "x";
if frobnicate { keep; }
