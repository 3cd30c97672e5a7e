# comment
require /* c */ "vacation";
vacation /* c */ :days 1 # c
 "gone";
