require "vacation";
vacation :from "b\\\"<( _" :subject "Away" "gone";
