require "vacation";
vacation :from "\\,;)(:" :subject "Away" "gone";
