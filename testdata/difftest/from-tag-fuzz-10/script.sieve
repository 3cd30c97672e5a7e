require "vacation";
vacation :from "bob\\" :subject "Away" "gone";
