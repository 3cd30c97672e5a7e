require "vacation";
discard;
vacation "gone";
