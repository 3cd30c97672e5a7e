require ["vacation", "encoded-character"];
vacation :subject "${unicode:263A} away" "gone";
