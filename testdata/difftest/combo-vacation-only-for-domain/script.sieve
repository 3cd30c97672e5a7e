require ["vacation", "envelope"];
if not envelope :domain :is "from" ["example.com"] {
  vacation :days 1 "external: gone";
}
