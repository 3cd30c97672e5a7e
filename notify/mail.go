package notify

import (
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"strings"
	"time"

	"github.com/vacationd/vacationd/sieve"
)

// Mail is one message to send.
type Mail struct {
	From    string   // envelope sender (MAIL FROM), "" for <>
	To      []string // envelope recipients (RCPT TO)
	Message []byte   // the whole RFC 5322 message, CRLF line ends
}

// Input is what a notification or report is composed from.
type Input struct {
	Message  *sieve.Message // the message the script ran on
	Envelope sieve.Envelope
	// Settings are Pigeonhole-named settings: sieve_user_email,
	// postmaster_address, sieve_notify_mailto_envelope_from,
	// sieve_report_from.
	Settings sieve.Settings
	Now      time.Time
	// Hostname is the right-hand side of generated Message-IDs.
	Hostname string
	// MessageID, when set, makes Message-IDs (tests).
	MessageID func() string
}

func (in *Input) messageID() string {
	if in.MessageID != nil {
		return in.MessageID()
	}
	var b [12]byte
	_, _ = rand.Read(b[:])
	host := in.Hostname
	if host == "" {
		host = "localhost"
	}
	return fmt.Sprintf("<vacationd.%d.%s@%s>", in.Now.Unix(), hex.EncodeToString(b[:]), host)
}

// userEmail is sieve_user_email, or "".
func (in *Input) userEmail() string {
	v := strings.TrimSpace(in.Settings.String("sieve_user_email", ""))
	if v == "" {
		return ""
	}
	a, err := sieve.ParseAddress(v)
	if err != nil {
		return ""
	}
	return a
}

// postmaster returns the postmaster's envelope address and the address
// as a From field shows it: postmaster_address, else postmaster at the
// recipient's domain.
func (in *Input) postmaster() (smtp, field string) {
	if v := strings.TrimSpace(in.Settings.String("postmaster_address", "")); v != "" {
		if a, err := sieve.ParseAddress(v); err == nil {
			if strings.Contains(v, "<") {
				return a, v
			}
			// Dovecot names a bare postmaster_address "Postmaster".
			return a, "Postmaster <" + a + ">"
		}
	}
	domain := in.Hostname
	if _, d, ok := strings.Cut(in.Envelope.To, "@"); ok && d != "" {
		domain = d
	}
	if domain == "" {
		domain = "localhost"
	}
	a := "postmaster@" + domain
	return a, "Postmaster <" + a + ">"
}

// addressSource resolves a Pigeonhole address source setting ("sender",
// "recipient", "orig_recipient", "user_email", "postmaster" or an explicit
// "<address>"); ok is false for "" (the default) or an unusable value.
func (in *Input) addressSource(v string) (addr string, ok bool) {
	v = strings.TrimSpace(v)
	switch strings.ToLower(v) {
	case "":
		return "", false
	case "sender":
		return in.Envelope.From, true
	case "recipient":
		return in.Envelope.To, in.Envelope.To != ""
	case "orig_recipient":
		if in.Envelope.OrigTo != "" {
			return in.Envelope.OrigTo, true
		}
		return in.Envelope.To, in.Envelope.To != ""
	case "user_email":
		u := in.userEmail()
		return u, u != ""
	case "postmaster":
		a, _ := in.postmaster()
		return a, true
	}
	if strings.HasPrefix(v, "<") && strings.HasSuffix(v, ">") {
		inner := strings.TrimSpace(v[1 : len(v)-1])
		if inner == "" {
			return "", true
		}
		if a, err := sieve.ParseAddress(inner); err == nil {
			return a, true
		}
	}
	return "", false
}

// autoSubmitted reports whether msg says it was sent automatically (an
// Auto-Submitted field other than "no").
func autoSubmitted(msg *sieve.Message) bool {
	for _, v := range msg.Header("auto-submitted") {
		if !strings.EqualFold(strings.TrimSpace(v), "no") {
			return true
		}
	}
	return false
}

// header collects header fields in order.
type header struct{ b strings.Builder }

func (h *header) add(name, value string) {
	h.b.WriteString(name)
	h.b.WriteString(": ")
	h.b.WriteString(sanitizeValue(value))
	h.b.WriteString("\r\n")
}

// sanitizeValue keeps a value on its line: controls become spaces.
func sanitizeValue(v string) string {
	return strings.Map(func(r rune) rune {
		if r < 0x20 && r != '\t' || r == 0x7f {
			return ' '
		}
		return r
	}, v)
}

// has8bit reports whether s has bytes outside ASCII.
func has8bit(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] >= 0x80 {
			return true
		}
	}
	return false
}
