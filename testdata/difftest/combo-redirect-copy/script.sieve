require ["vacation", "copy"];
vacation "gone";
redirect :copy "deputy@example.net";
