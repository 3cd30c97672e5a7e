require "vacation";
vacation :from "=?utf-8?q?x?=_Böb-<" :subject "Away" "gone";
