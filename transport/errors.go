package transport

import (
	"errors"
	"fmt"
	"strconv"
	"strings"

	"github.com/emersion/go-smtp"
)

// SendError is a failed submission to a relay, as returned by
// [Sender.Send].
type SendError struct {
	// Relay is the address the message was being sent to.
	Relay string
	// Op is the step that failed: "connect", "PROXY", "greeting", "EHLO",
	// "STARTTLS", "TLS", "AUTH", "MAIL FROM", "RCPT TO <addr>", "DATA",
	// "end of DATA", or "envelope" for input refused before any I/O.
	Op string
	// Code and Enhanced are the relay's reply; Code is 0 when the failure
	// was not a reply (network, TLS, timeout, bad input).
	Code     int
	Enhanced [3]int
	Message  string
	// Temporary is true when sending again later may succeed.
	Temporary bool
	// Err is the underlying error.
	Err error
}

func (e *SendError) Error() string {
	var b strings.Builder
	fmt.Fprintf(&b, "relay %s: %s: ", e.Relay, e.Op)
	if e.Code != 0 {
		b.WriteString(strconv.Itoa(e.Code))
		if e.Enhanced != [3]int{} {
			fmt.Fprintf(&b, " %d.%d.%d", e.Enhanced[0], e.Enhanced[1], e.Enhanced[2])
		}
		b.WriteString(" " + e.Message)
	} else if e.Err != nil {
		b.WriteString(e.Err.Error())
	} else {
		b.WriteString(e.Message)
	}
	if e.Temporary {
		b.WriteString(" (temporary)")
	} else {
		b.WriteString(" (permanent)")
	}
	return b.String()
}

func (e *SendError) Unwrap() error { return e.Err }

// IsTemporary reports whether sending again later may succeed. Only a 5xx
// about the recipient (the reply to its RCPT TO, or to the end of DATA,
// which with one recipient is that recipient's answer) and input the relay
// can never take (a bad envelope, a non-ASCII address for a relay without
// SMTPUTF8) are permanent. Everything else is temporary: connection
// failures, timeouts, TLS, any reply while setting up the session
// (greeting, EHLO, STARTTLS, AUTH), 4xx replies, and 5xx replies to MAIL
// FROM and to the DATA command, which say the relay will not take mail from
// us (an AUTH change, a policy) rather than that this recipient is refused.
// Errors other than *SendError are taken as temporary; nil is not
// temporary.
func IsTemporary(err error) bool {
	if err == nil {
		return false
	}
	var se *SendError
	if errors.As(err, &se) {
		return se.Temporary
	}
	return true
}

// Failure causes returned by [FailureCause], for logs and metrics.
const (
	CauseRelay     = "relay"     // the relay or the way to it failed; retry
	CauseRecipient = "recipient" // the relay refused the recipient (5xx)
	CauseSMTPUTF8  = "smtputf8"  // a non-ASCII address and a relay without SMTPUTF8
	CauseEnvelope  = "envelope"  // an envelope no relay can take
)

// FailureCause names the kind of a Send error: [CauseRecipient] for a 5xx
// refusing the recipient, [CauseSMTPUTF8] and [CauseEnvelope] for messages
// this relay can never take, [CauseRelay] for everything else (what
// [IsTemporary] reports as temporary). nil gives "".
func FailureCause(err error) string {
	if err == nil {
		return ""
	}
	var se *SendError
	switch {
	case errors.Is(err, ErrNoSMTPUTF8):
		return CauseSMTPUTF8
	case !errors.As(err, &se) || se.Temporary:
		return CauseRelay
	case se.Op == "envelope":
		return CauseEnvelope
	}
	return CauseRecipient
}

// replyError makes a SendError from an error of go-smtp's client. Only a
// 5xx reply at a recipient step (RCPT TO, end of DATA) is permanent; every
// other failure is temporary, as Postfix does for the session set-up, so a
// misconfigured or refusing relay delays replies instead of dropping them.
func replyError(relay, op string, err error, recipient bool) *SendError {
	e := &SendError{Relay: relay, Op: op, Err: err, Temporary: true}
	var se *smtp.SMTPError
	if errors.As(err, &se) {
		e.Code = se.Code
		e.Enhanced = [3]int(se.EnhancedCode)
		e.Message = se.Message
		// 530 "authentication required" is the relay's configuration, not
		// the recipient's fault.
		e.Temporary = !recipient || se.Code/100 != 5 || se.Code == 530
	}
	return e
}

// connUsable reports whether the connection is still in a known state
// after err: the relay answered with a reply other than 421.
func connUsable(err error) bool {
	var se *smtp.SMTPError
	return errors.As(err, &se) && se.Code != 421
}

// parseReplyText splits "2.1.5 text" into its enhanced code and text.
func parseReplyText(s string) ([3]int, string) {
	code, rest, ok := strings.Cut(s, " ")
	if !ok {
		code, rest = s, ""
	}
	parts := strings.Split(code, ".")
	if len(parts) != 3 {
		return [3]int{}, s
	}
	var ec [3]int
	for i, p := range parts {
		n, err := strconv.Atoi(p)
		if err != nil || n < 0 || n > 999 {
			return [3]int{}, s
		}
		ec[i] = n
	}
	return ec, rest
}

func isASCII(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] >= 0x80 {
			return false
		}
	}
	return true
}
