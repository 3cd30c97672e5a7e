require "vacation";
vacation :from "\"Bob B.\"=?utf-8?q?x?= " :subject "Away" "gone";
