// Package transport is the protocol side of vacationd: the LMTP endpoint
// (RFC 2033) behind PROXY protocol, the SMTP client that hands replies and
// redirects to a relay, and the LMTP client that forwards messages to a
// downstream delivery agent.
//
// Policy is kept out. The LMTP [Server] parses the session and calls a
// [Deliverer] once per message with the envelope and the raw message; the
// Deliverer answers with one [Status] per recipient, which the server sends
// back as LMTP's per-recipient replies. A Deliverer may also implement
// [RcptChecker] to refuse recipients at RCPT time.
//
// The server side of the protocol is the package's own (smtpd*.go): one
// goroutine per connection reads command lines and DATA content from a
// pooled buffer, runs the Deliverer inline and holds replies until it
// needs more input, so the replies to pipelined commands leave in one
// write. The client side ([Sender], [Forwarder]) opens sessions with
// go-smtp's client and runs the transactions itself, pipelined.
//
// [Sender] submits messages to an SMTP relay (STARTTLS or implicit TLS, AUTH
// PLAIN/LOGIN, an optional PROXY header) and classifies failures as
// temporary or permanent ([IsTemporary], [SendError]). [Forwarder] delivers
// one message to many recipients over LMTP and maps the downstream
// per-recipient replies back to [Status] values.
package transport
