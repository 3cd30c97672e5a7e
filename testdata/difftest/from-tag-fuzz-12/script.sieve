require "vacation";
vacation :from "=?utf-8?q?x?=(\"Bob B.\",>" :subject "Away" "gone";
