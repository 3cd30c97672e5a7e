require "vacation";
vacation :subject "Away" "gone";
