// Package mailaddr is the one parser of mail addresses in vacationd, for
// every place an address is read: header fields (To, Cc, From, Sender,
// Reply-To), the SMTP envelope, and the single addresses scripts write
// (redirect targets, vacation's :from and :addresses, notify's :from).
//
// Each syntax follows the Dovecot or Pigeonhole code path that reads it,
// so vacationd draws the same conclusions from the same bytes:
//
//   - ParseList reads a header field's address list as Dovecot's
//     message_address_parse does, recovering after a malformed element
//     the same way (the rest of the list is read when a comma follows).
//   - ParseMailbox reads a Sieve address (an addr-spec, or a phrase and
//     an addr-spec in angle brackets) with Pigeonhole's error messages.
//   - ParsePath reads an SMTP path (RFC 5321) as Dovecot's SMTP address
//     parser does for Sieve.
//
// The package is pure: no I/O, no clock, no dependency besides the
// standard library. All three share one lexical scanner (scanner.go),
// modelled on Dovecot's rfc822 parser.
package mailaddr
