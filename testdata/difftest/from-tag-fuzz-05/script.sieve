require "vacation";
vacation :from "<bob@example.com>\"q\"Bob" :subject "Away" "gone";
