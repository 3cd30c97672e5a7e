package notify

import (
	"fmt"
	"mime"
	"strings"

	"github.com/vacationd/vacationd/internal/mailtext"
	"github.com/vacationd/vacationd/sieve"
)

// maxSubjectCodePoints bounds the Subject of notifications, as Pigeonhole's
// SIEVE_MAX_SUBJECT_HEADER_CODEPOINTS.
const maxSubjectCodePoints = 256

// Mailto composes the notification a mailto: notify action sends, as
// Pigeonhole's mailto method does: one message to every recipient of the
// URI, From the :from address (else the configured or default sender),
// Auto-Submitted: auto-notified with the owner's address, the importance
// as X-Priority and Importance, the URI's header fields, subject and body.
// It returns nil and why when nothing is sent: no recipients, or the
// message being notified of was itself sent automatically.
func Mailto(a *sieve.Notify, in Input) (*Mail, string, error) {
	if a == nil || a.Mailto == nil {
		return nil, "", fmt.Errorf("notify: no mailto URI")
	}
	u := a.Mailto
	if len(u.Recipients) == 0 {
		return nil, "notify mailto uri specifies no recipients", nil
	}
	if in.Message != nil && autoSubmitted(in.Message) {
		return nil, "not sending notification for auto-submitted message", nil
	}
	owner := in.userEmail()
	if owner == "" {
		owner = in.Envelope.To
	}
	if owner == "" {
		owner, _ = in.postmaster()
	}

	// The envelope sender: sieve_notify_mailto_envelope_from, the null
	// sender for a message that came with one, else the :from address,
	// sieve_user_email or the postmaster.
	fromField := a.From
	envFrom, ok := in.addressSource(in.Settings.String("sieve_notify_mailto_envelope_from", ""))
	if in.Envelope.From == "" {
		envFrom, ok = "", true
	}
	if !ok {
		switch {
		case a.FromAddress != "":
			envFrom = a.FromAddress
		case in.userEmail() != "":
			envFrom = in.userEmail()
		default:
			var pmField string
			envFrom, pmField = in.postmaster()
			if fromField == "" {
				fromField = pmField
			}
		}
	}
	if fromField == "" {
		if envFrom == "" {
			_, fromField = in.postmaster()
		} else {
			fromField = "<" + envFrom + ">"
		}
	}

	var subject string
	switch {
	case a.HasMessage:
		subject = truncate(a.Message, maxSubjectCodePoints)
	case u.HasSubject:
		subject = u.Subject
	default:
		subject = "Notification: (no subject)"
		if in.Message != nil {
			if s := in.Message.HeaderDecoded("subject"); len(s) > 0 {
				subject = truncate("Notification: "+s[0], maxSubjectCodePoints)
			}
		}
	}

	var to, cc []string
	m := &Mail{From: envFrom}
	for _, r := range u.Recipients {
		if r.Cc {
			cc = append(cc, r.Full)
		} else {
			to = append(to, r.Full)
		}
		m.To = append(m.To, r.Address)
	}

	var h header
	h.add("X-Sieve", sieve.EngineName+" "+sieve.EngineVersion)
	h.add("Message-ID", in.messageID())
	h.add("Date", in.Now.Format("Mon, 02 Jan 2006 15:04:05 -0700"))
	h.b.WriteString(foldEncoded("Subject", subject))
	h.add("From", fromField)
	if len(to) > 0 {
		h.add("To", strings.Join(to, ", "))
	}
	if len(cc) > 0 {
		h.add("Cc", strings.Join(cc, ", "))
	}
	h.add("Auto-Submitted", `auto-notified; owner-email="`+owner+`"`)
	h.add("Precedence", "bulk")
	switch a.Importance {
	case 1:
		h.add("X-Priority", "1 (Highest)")
		h.add("Importance", "High")
	case 3:
		h.add("X-Priority", "5 (Lowest)")
		h.add("Importance", "Low")
	default:
		h.add("X-Priority", "3 (Normal)")
		h.add("Importance", "Normal")
	}
	for _, f := range u.Headers {
		h.add(mailtext.FieldName(f[0]), f[1])
	}
	h.add("MIME-Version", "1.0")
	body := "Notification of new message."
	switch {
	case !u.HasBody:
		h.add("Content-Type", "text/plain; charset=US-ASCII")
		h.add("Content-Transfer-Encoding", "7bit")
	case has8bit(u.Body):
		body = u.Body
		h.add("Content-Type", "text/plain; charset=utf-8")
		h.add("Content-Transfer-Encoding", "8bit")
	default:
		body = u.Body
		h.add("Content-Type", "text/plain; charset=us-ascii")
		h.add("Content-Transfer-Encoding", "7bit")
	}
	h.b.WriteString("\r\n")
	h.b.WriteString(crlf(body))
	h.b.WriteString("\r\n")
	m.Message = []byte(h.b.String())
	return m, "", nil
}

// truncate makes s valid UTF-8 without controls and cuts it to max code
// points, the last being "…", when it is longer.
func truncate(s string, max int) string {
	s = strings.ToValidUTF8(sanitizeValue(s), "\uFFFD")
	return mailtext.Truncate(s, max)
}

// foldEncoded writes a header field whose value may be UTF-8: RFC 2047
// encoded words when it is not ASCII, folded between words so that lines
// stay short.
func foldEncoded(name, value string) string {
	if has8bit(value) {
		value = mime.QEncoding.Encode("utf-8", value)
	}
	var b strings.Builder
	b.WriteString(name + ":")
	line := len(name) + 1
	for i, w := range strings.Split(value, " ") {
		if i > 0 && line+1+len(w) > 78 && line > len(name)+1 {
			b.WriteString("\r\n")
			line = 0
		}
		b.WriteString(" " + w)
		line += 1 + len(w)
	}
	b.WriteString("\r\n")
	return b.String()
}

// crlf turns bare LF line ends into CRLF.
func crlf(s string) string {
	if !strings.Contains(s, "\n") {
		return s
	}
	s = strings.ReplaceAll(s, "\r\n", "\n")
	return strings.ReplaceAll(s, "\n", "\r\n")
}
