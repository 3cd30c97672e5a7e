require "vacation";
vacation :from "bob@example.com__;" :subject "Away" "gone";
