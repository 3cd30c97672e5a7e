require "vacation";
vacation :from "[1.2.3.4]!" :subject "Away" "gone";
