require "vacation";
vacation :from "<bob@example.com>(:b\\\"-=?utf-8?q?x?=" :subject "Away" "gone";
