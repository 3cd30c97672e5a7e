package sieve

import (
	"fmt"
	"strings"
)

// The mailto: notification method (RFC 5436), with Pigeonhole's URI
// syntax (between RFC 2368 and RFC 6068): recipients in the path separated
// by "%2C", header fields in the query, "to" and "cc" adding recipients.

// MailtoRecipient is one recipient of a mailto: notification.
type MailtoRecipient struct {
	// Full is the recipient as written in the URI (it may carry a
	// display name); it goes into the To or Cc header field.
	Full string
	// Address is the envelope address, local@domain.
	Address string
	// Cc is true for a recipient only named by a "cc" header field.
	Cc bool
}

// Mailto is a parsed mailto: URI.
type Mailto struct {
	Recipients []MailtoRecipient
	// Headers are the other header fields, in order, [name, value].
	Headers [][2]string
	// Subject and Body are the "subject" and "body" fields; HasSubject and
	// HasBody say whether they were given.
	Subject, Body       string
	HasSubject, HasBody bool
}

// mailtoReserved are header fields a mailto: URI may not set for a
// notification (RFC 5436 §2.2); they are ignored with a warning.
var mailtoReserved = map[string]bool{
	"auto-submitted": true, "received": true, "message-id": true, "data": true,
	"bcc": true, "in-reply-to": true, "references": true, "resent-date": true,
	"resent-from": true, "resent-sender": true, "resent-to": true, "resent-cc": true,
	"resent-bcc": true, "resent-msg-id": true, "from": true, "sender": true,
}

// mailtoUnique are header fields a URI may set once.
var mailtoUnique = map[string]bool{"reply-to": true}

// mailtoParser parses the body of a mailto: URI (after "mailto:").
type mailtoParser struct {
	u             *Mailto
	maxRecipients int
	maxHeaders    int
	warnings      []string
}

func (p *mailtoParser) warnf(format string, args ...any) {
	p.warnings = append(p.warnings, fmt.Sprintf(format, args...))
}

// isQchar reports the characters a mailto: URI may hold unencoded.
func isQchar(c byte) bool {
	switch {
	case isAlpha(c) || isDigit(c):
		return true
	case c >= 0x80 || c < 0x21:
		return false
	}
	return strings.IndexByte("!$'()*+,-.:;@_~", c) >= 0
}

// parseMailto parses a mailto: URI body under the limits of the settings.
func parseMailto(body string, maxRecipients, maxHeaders int) (*Mailto, []string, error) {
	p := &mailtoParser{u: &Mailto{}, maxRecipients: maxRecipients, maxHeaders: maxHeaders}
	i := 0
	var to strings.Builder
	if i < len(body) && body[i] != '?' {
		for i < len(body) && body[i] != '?' {
			c := body[i]
			if c == '%' {
				v, ok := hexByte(body, i+1)
				if !ok {
					return nil, nil, fmt.Errorf("invalid %% encoding")
				}
				i += 3
				if v == ',' {
					if err := p.addRecipient(to.String(), false); err != nil {
						return nil, nil, err
					}
					to.Reset()
					continue
				}
				to.WriteByte(v)
				continue
			}
			if c == ':' || c == ';' || c == ',' || !isQchar(c) {
				return nil, nil, fmt.Errorf("invalid character '%c' in 'to' part", c)
			}
			to.WriteByte(c)
			i++
		}
		if err := p.addRecipient(to.String(), false); err != nil {
			return nil, nil, err
		}
	}
	if i < len(body) {
		i++ // '?'
		count := 0
		for i < len(body) {
			var err error
			i, err = p.headerField(body, i, &count)
			if err != nil {
				return nil, nil, err
			}
		}
	}
	if len(p.u.Recipients) == 0 {
		p.warnf("notification URI specifies no recipients")
	}
	return p.u, p.warnings, nil
}

// hexByte decodes the two hex digits at s[i:]; a NUL byte is refused.
func hexByte(s string, i int) (byte, bool) {
	if i+1 >= len(s) {
		return 0, false
	}
	hi, ok1 := unhex(s[i])
	lo, ok2 := unhex(s[i+1])
	v := hi<<4 | lo
	return v, ok1 && ok2 && v != 0
}

// fieldPart reads the %-encoded name or value part of a header field at
// body[i:] up to stop, which it skips; ok accepts the characters allowed
// unencoded. It returns the decoded part and where the next one starts.
func fieldPart(body string, i int, stop byte, ok func(byte) bool, part string) (string, int, error) {
	var b strings.Builder
	for i < len(body) && body[i] != stop {
		c := body[i]
		i++
		if c == '%' {
			v, valid := hexByte(body, i)
			if !valid {
				return "", i, fmt.Errorf("invalid %% encoding")
			}
			c = v
			i += 2
		} else if !ok(c) {
			return "", i, fmt.Errorf("invalid character '%c' in header field %s part", c, part)
		}
		b.WriteByte(c)
	}
	if i < len(body) {
		i++
	}
	return b.String(), i, nil
}

// headerField parses one "name=value" at body[i:] and returns where the
// next one starts.
func (p *mailtoParser) headerField(body string, i int, count *int) (int, error) {
	fname, i, err := fieldPart(body, i, '=', isQchar, "name")
	if err != nil {
		return i, err
	}
	fval, i, err := fieldPart(body, i, '&', func(c byte) bool { return c == '=' || isQchar(c) }, "value")
	if err != nil {
		return i, err
	}
	if !validFieldName(fname) {
		return i, fmt.Errorf("invalid header field name")
	}
	low := strings.ToLower(fname)
	if low != "body" && strings.ContainsAny(fval, "\r\n\x00") {
		return i, fmt.Errorf("invalid header field body")
	}
	ignored := false
	if p.maxHeaders >= 0 && *count >= p.maxHeaders {
		if *count == p.maxHeaders {
			p.warnf("more than the maximum %d headers specified; rest is discarded", p.maxHeaders)
		}
		ignored = true
	}
	*count++
	if ignored {
		return i, nil
	}
	switch {
	case low == "to" || low == "cc":
		for _, r := range strings.Split(fval, ",") {
			if err := p.addRecipient(r, low == "cc"); err != nil {
				return i, err
			}
		}
	case low == "subject":
		if p.u.HasSubject {
			p.warnf("ignored duplicate subject field")
		} else {
			p.u.Subject, p.u.HasSubject = fval, true
		}
	case low == "body":
		if p.u.HasBody {
			p.warnf("ignored duplicate body field")
		} else {
			p.u.Body, p.u.HasBody = fval, true
		}
	case mailtoReserved[low]:
		p.warnf("ignored reserved header field '%s'", sanitize(fname, 32))
	case mailtoUnique[low] && p.hasHeader(low):
		p.warnf("ignored duplicate for unique header field '%s'", sanitize(fname, 32))
	default:
		p.u.Headers = append(p.u.Headers, [2]string{fname, fval})
	}
	return i, nil
}

func (p *mailtoParser) hasHeader(low string) bool {
	for _, h := range p.u.Headers {
		if strings.EqualFold(h[0], low) {
			return true
		}
	}
	return false
}

// addRecipient checks and adds one recipient; a duplicate upgrades a Cc
// recipient to To.
func (p *mailtoParser) addRecipient(full string, cc bool) error {
	a, why := parseSieveAddress(full)
	if why != "" {
		return fmt.Errorf("invalid recipient '%s': %s", sanitize(full, 80), why)
	}
	addr := a.smtpString()
	rs := p.u.Recipients
	if p.maxRecipients > 0 && len(rs) >= p.maxRecipients {
		if len(rs) == p.maxRecipients {
			p.warnf("more than the maximum %d recipients specified; rest is discarded", p.maxRecipients)
		}
		return nil
	}
	for i := range rs {
		if sameSMTPAddress(rs[i].Address, addr) {
			rs[i].Cc = rs[i].Cc && cc
			p.warnf("ignored duplicate recipient '%s'", sanitize(full, 80))
			return nil
		}
	}
	p.u.Recipients = append(rs, MailtoRecipient{Full: full, Address: addr, Cc: cc})
	return nil
}

// sameSMTPAddress compares addresses as Dovecot's smtp_address_equals:
// the local part exactly, the domain case-insensitively.
func sameSMTPAddress(a, b string) bool {
	al, ad, _ := strings.Cut(a, "@")
	bl, bd, _ := strings.Cut(b, "@")
	return al == bl && strings.EqualFold(ad, bd)
}
