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

// IsTemporary reports whether sending again later may succeed: true for
// connection failures, timeouts, TLS and authentication problems
// (including 530 "authentication required"), any failure before MAIL FROM,
// and 4xx replies; false for other 5xx replies to the transaction (MAIL,
// RCPT, DATA) and for input the relay can never accept. Errors other than *SendError are
// taken as temporary; nil is not temporary.
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

// replyError makes a SendError from an error of go-smtp's client. Replies
// in the transaction keep their class (5xx permanent); failures while
// setting up the session are always temporary, as Postfix does, so a
// misconfigured relay delays replies instead of dropping them.
func replyError(relay, op string, err error, transaction bool) *SendError {
	e := &SendError{Relay: relay, Op: op, Err: err, Temporary: true}
	var se *smtp.SMTPError
	if errors.As(err, &se) {
		e.Code = se.Code
		e.Enhanced = [3]int(se.EnhancedCode)
		e.Message = se.Message
		// 530 "authentication required" is the relay's configuration, not
		// the message's fault.
		e.Temporary = !transaction || se.Code/100 != 5 || se.Code == 530
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
