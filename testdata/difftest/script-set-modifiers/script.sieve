require ["vacation", "variables"];
set :upperfirst :lower "n" "BOB";
set :length "l" "abcd";
vacation :subject "${n} ${l} ${hex:41}" "gone";
