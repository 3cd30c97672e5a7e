require "vacation";
vacation :from "[1.2.3.4];(c)bob@example.com" :subject "Away" "gone";
