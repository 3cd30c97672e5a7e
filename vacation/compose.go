package vacation

import (
	"bytes"
	"fmt"
	"mime"
	"mime/quotedprintable"
	"strings"
	"unicode/utf8"

	"github.com/emersion/go-message/mail"
	"github.com/emersion/go-message/textproto"

	"github.com/vacationd/vacationd/internal/mailtext"
	"github.com/vacationd/vacationd/mailaddr"
	"github.com/vacationd/vacationd/sieve"
)

// MaxSubjectCodePoints is the default bound of the reply's Subject
// (Settings.MaxSubjectCodePoints): a longer one is cut to one less and
// ends with "…".
const MaxSubjectCodePoints = 256

// maxLineOctets is the longest body line sent as 8bit (RFC 5322 §2.1.1).
const maxLineOctets = 998

// Reply is a composed vacation reply, ready for the outbox.
type Reply struct {
	// MailFrom is the SMTP reverse-path ("" for <>); RcptTo the single
	// recipient, the original envelope sender. Senders should ask for
	// NOTIFY=NEVER where the relay offers DSN.
	MailFrom string
	RcptTo   string
	// MessageID is the reply's Message-ID, with angle brackets.
	MessageID string
	// Message is the whole RFC 5322 message, CRLF line ends.
	Message []byte
	// Warnings are problems met while composing that did not stop it.
	Warnings []string
}

// Compose renders the reply of a decision whose Send is true: the header
// fields Pigeonhole writes, in its order, then the :reason as a UTF-8 text
// body or, with :mime, as the MIME entity it is. No value from the script
// or the incoming message can add a header field: line breaks and other
// controls in them are replaced or refused.
func (r *Responder) Compose(in *Input, d *Decision) (*Reply, error) {
	if d == nil || !d.Send {
		return nil, fmt.Errorf("vacation: compose: no reply is due")
	}
	s := &r.Settings
	act, msg := in.Action, in.Message
	rep := &Reply{MailFrom: d.MailFrom, RcptTo: d.RcptTo, MessageID: r.newMessageID(d.Now)}

	// From: :from, else the user's address that matched, else postmaster.
	from := d.from
	if from.Address == "" {
		from = mail.Address{Address: d.userAddr}
	}
	if from.Address == "" {
		pm := s.PostmasterAddress
		if pm == "" {
			_, domain := mailaddr.Split(mailaddr.TrimAngle(in.Envelope.To))
			pm = "postmaster@" + domain
		}
		from = mail.Address{Address: pm}
	}
	to := replyTo(msg, mailaddr.Unquote(d.RcptTo), s.ToHeaderIgnoreEnvelope)

	subject := act.Subject
	if subject == "" {
		subject = defaultSubject(s, msg)
	}
	max := s.MaxSubjectCodePoints
	if max <= 0 {
		max = MaxSubjectCodePoints
	}
	subject = mailtext.Truncate(sanitizeText(subject), max)

	type field struct{ name, value string }
	fields := []field{
		{"Message-ID", rep.MessageID},
		{"Date", d.Now.Format("Mon, 02 Jan 2006 15:04:05 -0700")},
		{"From", fromField(from, d.fromRaw)},
		{"To", formatAddress(to)},
		{"Subject", encodeText(subject)},
	}
	id := messageID(first(msg, "Message-ID"))
	refs := headerToken(first(msg, "References"))
	switch {
	case id != "" && refs != "":
		fields = append(fields, field{"In-Reply-To", id}, field{"References", refs + " " + id})
	case id != "":
		fields = append(fields, field{"In-Reply-To", id}, field{"References", id})
	case refs != "":
		fields = append(fields, field{"References", refs})
	}
	fields = append(fields,
		field{"Auto-Submitted", "auto-replied (vacation)"},
		field{"Precedence", "bulk"},
		field{"X-Auto-Response-Suppress", "All"},
		field{"MIME-Version", "1.0"},
	)

	var body []byte
	if act.Mime {
		ent, warn := mimeEntity(act.Reason)
		rep.Warnings = append(rep.Warnings, warn...)
		for _, f := range ent.Fields {
			fields = append(fields, field{f.Name, sanitizeHeaderValue(sieve.Unfold(f.Value))})
		}
		body = ent.Body
	} else {
		text := crlf(act.Reason)
		cte := "8bit"
		if hasLongLine(text) {
			cte = "quoted-printable"
			text = quotedPrintable(text)
		}
		fields = append(fields,
			field{"Content-Type", "text/plain; charset=utf-8"},
			field{"Content-Transfer-Encoding", cte})
		body = text
	}

	// go-message writes fields last-added first.
	var h textproto.Header
	for i := len(fields) - 1; i >= 0; i-- {
		f := fields[i]
		switch f.name {
		case "Message-ID", "MIME-Version", "Subject":
			// Keep Pigeonhole's spelling, which go-message would
			// canonicalize, and fold encoded words between words.
			h.AddRaw(foldField(f.name, f.value))
			continue
		}
		h.Add(f.name, f.value)
	}
	var b bytes.Buffer
	b.Grow(512 + len(body))
	if err := textproto.WriteHeader(&b, h); err != nil {
		return nil, fmt.Errorf("vacation: compose reply to <%s>: %w", d.RcptTo, err)
	}
	b.Write(body)
	if !bytes.HasSuffix(body, []byte("\r\n")) {
		b.WriteString("\r\n")
	}
	rep.Message = b.Bytes()
	return rep, nil
}

// first returns the first value of the named header field, unfolded, or "".
func first(m *sieve.Message, name string) string {
	for _, f := range m.Fields {
		if strings.EqualFold(f.Name, name) {
			return sieve.Unfold(f.Value)
		}
	}
	return ""
}

func hasHeader(m *sieve.Message, name string) bool {
	for _, f := range m.Fields {
		if strings.EqualFold(f.Name, name) {
			return true
		}
	}
	return false
}

// replyTo finds the reply's To: the address of the first Sender, Resent-From
// or From field (in that order) that equals the envelope sender, display
// name kept; with ignoreEnvelope the first address found. Else <sender>.
func replyTo(m *sieve.Message, sender string, ignoreEnvelope bool) mail.Address {
	for _, h := range []string{"Sender", "Resent-From", "From"} {
		v := first(m, h)
		if v == "" {
			continue
		}
		for _, a := range parseAddresses(v, true) {
			if ignoreEnvelope || sameAddress(a.Address, sender) {
				return a
			}
		}
	}
	return mail.Address{Address: sender}
}

// defaultSubject is the subject of a reply whose script gave none.
func defaultSubject(s *Settings, m *sieve.Message) string {
	if !hasHeader(m, "Subject") {
		if s.DefaultSubject != "" {
			return s.DefaultSubject
		}
		return "Automated reply"
	}
	orig := sieve.DecodeWords(first(m, "Subject"))
	if s.DefaultSubjectTemplate == "" {
		return "Auto: " + orig
	}
	if t, ok := expandTemplate(s.DefaultSubjectTemplate, orig); ok {
		return t
	}
	return "Auto: " + orig // Pigeonhole logs the failed expansion and falls back
}

// expandTemplate expands a subject template as Dovecot's var_expand does
// with Pigeonhole's table: %$ and %{subject} are the subject, %% is %. ok is
// false for any other variable.
func expandTemplate(t, subject string) (string, bool) {
	var b strings.Builder
	for i := 0; i < len(t); i++ {
		if t[i] != '%' {
			b.WriteByte(t[i])
			continue
		}
		rest := t[i+1:]
		switch {
		case strings.HasPrefix(rest, "%"):
			b.WriteByte('%')
			i++
		case strings.HasPrefix(rest, "$"):
			b.WriteString(subject)
			i++
		case strings.HasPrefix(rest, "{subject}"):
			b.WriteString(subject)
			i += len("{subject}")
		default:
			return "", false
		}
	}
	return b.String(), true
}

// fromField is the reply's From: the address, or an expanded :from that
// is no address written as it is (as Pigeonhole does), made one line.
func fromField(a mail.Address, raw string) string {
	if raw != "" {
		return encodeText(strings.TrimSpace(sanitizeHeaderValue(raw)))
	}
	return formatAddress(a)
}

// messageID extracts the first valid msg-id of a Message-ID value as
// Dovecot does for Pigeonhole: the first <...> holding an @, with
// comments, white space and quotes removed; "" when there is none.
func messageID(v string) string {
	for {
		i := strings.IndexByte(v, '<')
		if i < 0 {
			return ""
		}
		v = v[i+1:]
		var b strings.Builder
		at, closed := false, false
		depth := 0
		quoted := false
		j := 0
	scan:
		for ; j < len(v); j++ {
			c := v[j]
			switch {
			case quoted:
				switch c {
				case '"':
					quoted = false
				case '\\':
					if j+1 < len(v) {
						j++
						b.WriteByte(v[j])
					}
				default:
					b.WriteByte(c)
				}
			case depth > 0:
				switch c {
				case '(':
					depth++
				case ')':
					depth--
				case '\\':
					j++
				}
			case c == '"':
				quoted = true
			case c == '(':
				depth++
			case c == '>':
				closed = true
				break scan
			case c == ' ' || c == '\t' || c == '\r' || c == '\n':
			default:
				if c == '@' {
					at = true
				}
				b.WriteByte(c)
			}
		}
		if !closed {
			return ""
		}
		v = v[j+1:]
		if at {
			return headerToken("<" + b.String() + ">")
		}
	}
}

// sanitizeText makes s valid UTF-8 without control characters: invalid
// bytes and controls (line breaks and tabs included) become U+FFFD.
func sanitizeText(s string) string {
	clean := utf8.ValidString(s)
	if clean {
		for i := 0; i < len(s); i++ {
			if s[i] < 0x20 || s[i] == 0x7f {
				clean = false
				break
			}
		}
	}
	if clean {
		return s
	}
	var b strings.Builder
	for _, r := range s {
		if r < 0x20 || r == 0x7f {
			r = utf8.RuneError
		}
		b.WriteRune(r)
	}
	return b.String()
}

// encodeText writes text as a header value: RFC 2047 encoded words only
// when it is not plain ASCII.
func encodeText(s string) string {
	for i := 0; i < len(s); i++ {
		if s[i] >= 0x80 {
			return mime.QEncoding.Encode("utf-8", s)
		}
	}
	return s
}

// formatAddress writes an address as Dovecot does: "<addr>" without a
// display name, a one-atom name as it is, any other name quoted or, when
// not ASCII, RFC 2047-encoded.
func formatAddress(a mail.Address) string {
	a.Name = strings.TrimSpace(sanitizeText(a.Name))
	if a.Name == "" || !isAtom(a.Name) {
		return a.String()
	}
	return a.Name + " " + (&mail.Address{Address: a.Address}).String()
}

// isAtom reports whether s is one RFC 5322 atom, which needs no quoting.
func isAtom(s string) bool {
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' ||
			strings.IndexByte("!#$%&'*+-/=?^_`{|}~", c) >= 0) {
			return false
		}
	}
	return s != ""
}

// foldField formats a header field folding at spaces so that lines stay
// within 78 octets where the words allow; unfolding gives value back.
func foldField(name, value string) []byte {
	const limit = 78
	b := make([]byte, 0, len(name)+len(value)+16)
	b = append(b, name...)
	b = append(b, ':')
	lineLen := len(b)
	for i, w := range strings.Split(value, " ") {
		if i > 0 && lineLen+1+len(w) > limit && lineLen > len(name)+1 {
			b = append(b, '\r', '\n')
			lineLen = 0
		}
		b = append(b, ' ')
		b = append(b, w...)
		lineLen += 1 + len(w)
	}
	return append(b, '\r', '\n')
}

// headerToken makes a value copied from the incoming message safe to write
// back: no line breaks or other controls.
func headerToken(v string) string {
	return strings.TrimSpace(sanitizeHeaderValue(v))
}

func sanitizeHeaderValue(v string) string {
	if strings.IndexFunc(v, func(r rune) bool { return r < 0x20 && r != '\t' || r == 0x7f }) < 0 {
		return v
	}
	return strings.Map(func(r rune) rune {
		if r < 0x20 && r != '\t' || r == 0x7f {
			return ' '
		}
		return r
	}, v)
}

// mimeEntity splits a :mime reason into its MIME header fields and body.
// Only Content-* fields are kept, so a script cannot add To, Bcc or any
// other field to the reply; the others are dropped with a warning.
func mimeEntity(reason string) (*sieve.Message, []string) {
	ent := sieve.ParseMessage(crlf(reason))
	var kept []sieve.Field
	var warn []string
	hasType := false
	for _, f := range ent.Fields {
		name := strings.ToLower(f.Name)
		if !strings.HasPrefix(name, "content-") {
			warn = append(warn, fmt.Sprintf("vacation :mime reason: header field %q dropped: only Content-* fields are allowed", sanitizeLog(f.Name)))
			continue
		}
		if name == "content-type" {
			hasType = true
		}
		kept = append(kept, f)
	}
	if !hasType {
		kept = append(kept, sieve.Field{Name: "Content-Type", Value: " text/plain; charset=utf-8"})
	}
	return &sieve.Message{Fields: kept, Body: ent.Body}, warn
}

// crlf converts every line end of s to CRLF and NUL to U+FFFD.
func crlf(s string) []byte {
	b := make([]byte, 0, len(s)+16)
	for i := 0; i < len(s); i++ {
		switch c := s[i]; c {
		case '\r':
			if i+1 < len(s) && s[i+1] == '\n' {
				i++
			}
			b = append(b, '\r', '\n')
		case '\n':
			b = append(b, '\r', '\n')
		case 0:
			b = append(b, "\uFFFD"...)
		default:
			b = append(b, c)
		}
	}
	return b
}

func hasLongLine(b []byte) bool {
	for len(b) > 0 {
		i := bytes.IndexByte(b, '\n')
		if i < 0 {
			return len(b) > maxLineOctets
		}
		if i > maxLineOctets+1 {
			return true
		}
		b = b[i+1:]
	}
	return false
}

func quotedPrintable(b []byte) []byte {
	var out bytes.Buffer
	w := quotedprintable.NewWriter(&out)
	_, _ = w.Write(b) // writes to a bytes.Buffer do not fail
	_ = w.Close()
	return out.Bytes()
}
