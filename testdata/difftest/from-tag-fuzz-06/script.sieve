require "vacation";
vacation :from "_.=?utf-8?q?x?=example.comBöb" :subject "Away" "gone";
