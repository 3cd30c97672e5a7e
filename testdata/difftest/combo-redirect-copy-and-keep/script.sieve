require ["vacation", "copy"];
vacation :subject "forwarded" "gone";
redirect :copy "assistant@example.net";
