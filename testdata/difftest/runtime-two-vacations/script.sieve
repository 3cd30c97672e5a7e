require "vacation";
vacation "a";
vacation :handle "x" "b";
