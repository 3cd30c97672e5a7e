package transport

import (
	"context"
	"fmt"
	"net"
)

// Envelope is what the LMTP client told the server about one message.
type Envelope struct {
	// From is the reverse path without angle brackets; "" for the null
	// sender <>.
	From string
	// Recipients in the order the client gave them (duplicates kept, since
	// LMTP answers once per RCPT).
	Recipients []Recipient
	// ClientAddr is the client's address: the source address a trusted
	// PROXY header carried, else the socket's peer address.
	ClientAddr net.Addr
	// ClientHost is the name the client gave in LHLO.
	ClientHost string
	// Proxied reports whether ClientAddr came from a PROXY header.
	Proxied bool
	// UTF8 is set when the client sent MAIL FROM with SMTPUTF8.
	UTF8 bool
	// SessionID identifies the LMTP session in logs; every transaction
	// of one connection shares it.
	SessionID string
}

// Recipient is one RCPT TO.
type Recipient struct {
	// Addr is the forward path without angle brackets, as the client sent it.
	Addr string
	// ORCPT is the decoded address of the RFC 3461 ORCPT parameter (the type
	// prefix such as "rfc822;" removed), or "" when the client sent none.
	ORCPT string
}

// Status is an SMTP reply for one recipient: code, enhanced status code
// (RFC 3463) and text.
type Status struct {
	Code     int
	Enhanced [3]int
	Message  string
}

// StatusOK returns a 250 2.0.0 status with the given text. A text that
// starts with an enhanced code of class 2 ("2.1.5 Ok") sets that code.
func StatusOK(msg string) Status {
	return withEnhanced(Status{Code: 250, Enhanced: [3]int{2, 0, 0}}, msg)
}

// StatusTempFail returns a 451 4.3.0 status ("try again later") with the
// given text. It is the answer for anything that went wrong on this side.
// A text that starts with an enhanced code of class 4 ("4.2.0 busy") sets
// that code.
func StatusTempFail(msg string) Status {
	return withEnhanced(Status{Code: 451, Enhanced: [3]int{4, 3, 0}}, msg)
}

func withEnhanced(st Status, msg string) Status {
	st.Message = msg
	if ec, text := parseReplyText(msg); ec[0] == st.Enhanced[0] {
		st.Enhanced, st.Message = ec, text
	}
	return st
}

// OK reports whether s is a 2xx success.
func (s Status) OK() bool { return s.Code >= 200 && s.Code < 300 }

// Temporary reports whether s is a 4xx transient failure.
func (s Status) Temporary() bool { return s.Code >= 400 && s.Code < 500 }

// Permanent reports whether s is a 5xx permanent failure.
func (s Status) Permanent() bool { return s.Code >= 500 && s.Code < 600 }

// valid reports whether s can be sent as a final reply to DATA.
func (s Status) valid() bool { return s.OK() || s.Temporary() || s.Permanent() }

// String formats s as it appears on the wire, e.g. "451 4.3.0 try later".
func (s Status) String() string {
	if s.Enhanced == [3]int{} {
		return fmt.Sprintf("%d %s", s.Code, s.Message)
	}
	return fmt.Sprintf("%d %d.%d.%d %s", s.Code, s.Enhanced[0], s.Enhanced[1], s.Enhanced[2], s.Message)
}

// Deliverer is the policy behind the LMTP server, called once per message
// after the end of DATA.
//
// Deliver must return exactly one Status per env.Recipients entry, in the
// same order. Every 2xx must mean the message's effects for that recipient
// are durable: the server sends it to the client as soon as Deliver
// returns, and the client then forgets the message. A recipient Deliver
// could not handle must get a 4xx, so the client keeps the message and
// retries; a Deliverer must never drop accepted mail by answering 2xx
// without having done the work. A missing, extra or invalid Status, or a
// panic, is answered with 451 4.3.0 for the affected recipients.
//
// msg is the message as received (CRLF line endings, dot-stuffing removed),
// owned by the Deliverer. ctx is cancelled when the server is closed
// forcibly; a graceful Shutdown lets Deliver finish.
//
// Deliver is called concurrently from different sessions.
type Deliverer interface {
	Deliver(ctx context.Context, env *Envelope, msg []byte) []Status
}

// DelivererFunc adapts an ordinary function to a Deliverer.
type DelivererFunc func(ctx context.Context, env *Envelope, msg []byte) []Status

// Deliver calls f(ctx, env, msg).
func (f DelivererFunc) Deliver(ctx context.Context, env *Envelope, msg []byte) []Status {
	return f(ctx, env, msg)
}

// RcptChecker is an optional interface a Deliverer may implement to answer
// each RCPT TO before the message is sent. env holds the envelope so far
// (sender, earlier accepted recipients, client). A nil result accepts the
// recipient; otherwise the Status (4xx or 5xx) is sent as the RCPT reply and
// the recipient is not added. CheckRcpt is called concurrently from
// different sessions.
type RcptChecker interface {
	CheckRcpt(ctx context.Context, env *Envelope, rcpt Recipient) *Status
}
