require "vacation";
stop;
vacation "gone";
