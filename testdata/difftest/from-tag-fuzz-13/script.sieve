require "vacation";
vacation :from ">@b\\\";" :subject "Away" "gone";
