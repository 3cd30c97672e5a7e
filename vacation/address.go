package vacation

import (
	"strings"

	"github.com/emersion/go-message/mail"

	"github.com/vacationd/vacationd/sieve"
)

// maxHeaderAddresses bounds how many addresses of one header field are
// looked at, as Pigeonhole does.
const maxHeaderAddresses = 256

// trimAngle strips white space and one pair of surrounding angle brackets:
// "<a@b>" and "a@b" are the same envelope address; "<>" is empty.
func trimAngle(s string) string {
	s = strings.TrimSpace(s)
	if len(s) >= 2 && s[0] == '<' && s[len(s)-1] == '>' {
		s = strings.TrimSpace(s[1 : len(s)-1])
	}
	return s
}

// localPart returns the part of addr before its last '@'.
func localPart(addr string) string {
	if i := strings.LastIndexByte(addr, '@'); i >= 0 {
		return addr[:i]
	}
	return addr
}

// domainPart returns the part of addr after its last '@', or "".
func domainPart(addr string) string {
	if i := strings.LastIndexByte(addr, '@'); i >= 0 {
		return addr[i+1:]
	}
	return ""
}

// sameAddress compares two addresses as Pigeonhole does: local part and
// domain both case-insensitively.
func sameAddress(a, b string) bool { return a != "" && strings.EqualFold(a, b) }

// unquoteLocal writes an SMTP address with a quoted local part
// ("a b"@example.org) as the address headers' parser gives it (a
// b@example.org), so that the two compare equal as in Pigeonhole.
func unquoteLocal(addr string) string {
	at := strings.LastIndexByte(addr, '@')
	if at < 2 || addr[0] != '"' || addr[at-1] != '"' {
		return addr
	}
	var b strings.Builder
	q := addr[1 : at-1]
	for i := 0; i < len(q); i++ {
		if q[i] == '\\' && i+1 < len(q) {
			i++
		}
		b.WriteByte(q[i])
	}
	return b.String() + addr[at:]
}

// isSystemAddress reports the senders that never get a reply: MAILER-DAEMON,
// LISTSERV, majordomo, *-request* and owner-* local parts.
func isSystemAddress(addr string) bool {
	lp := localPart(addr)
	l := strings.ToLower(lp)
	return l == "mailer-daemon" || l == "listserv" || l == "majordomo" ||
		strings.Contains(lp, "-request") || strings.HasPrefix(lp, "owner-")
}

// parseMailbox parses one address as written in :from or :addresses, with
// Pigeonhole's rules (sieve.ParseAddress): "Name <local@domain>",
// "<local@domain>" or "local@domain". The display name, when there is one
// and Go's parser reads it, is kept for the From field.
func parseMailbox(s string) (a mail.Address, ok bool) {
	if strings.ContainsAny(s, "\x00\r\n") {
		return a, false
	}
	addr, err := sieve.ParseAddress(s)
	if err != nil {
		return a, false
	}
	a.Address = addr
	if name, ok := rawQuotedName(s); ok {
		a.Name = name
	} else if p, err := mail.ParseAddress(s); err == nil && strings.EqualFold(p.Address, addr) {
		a.Name = p.Name
	}
	return a, true
}

// rawQuotedName reads a display name written between quotes without
// escaping the quotes or backslashes inside, as Mailu's template writes
// :from "\"{{ displayed_name }}\" <{{ email }}>": "Alice "Ali" \ x"
// <alice@example.test> is the name Alice "Ali" \ x, which the From field
// then quotes properly. A name that is one valid quoted string is not
// such a name (ok false): the ordinary parser reads its escapes.
func rawQuotedName(s string) (name string, ok bool) {
	phrase, _, found := strings.Cut(s, "<")
	phrase = strings.TrimSpace(phrase)
	if !found || len(phrase) < 2 || phrase[0] != '"' || phrase[len(phrase)-1] != '"' {
		return "", false
	}
	inner := phrase[1 : len(phrase)-1]
	for i := 0; i < len(inner); i++ {
		switch inner[i] {
		case '\\':
			i++
		case '"':
			return inner, true // an unescaped quote: not one quoted string
		}
	}
	return "", false
}

// parseAddressList extracts the addresses of a header field value the way
// Dovecot's lenient parser does: mailboxes and groups are read in order,
// elements without a domain are skipped, and the first element that cannot
// be parsed (garbage after an address, a broken angle address) ends the
// list, keeping what came before. At most maxHeaderAddresses are returned.
func parseAddressList(v string) []mail.Address { return parseAddresses(v, false) }

// parseAddresses is parseAddressList; with validOnly it leaves out the
// addresses Dovecot marks as invalid syntax though it reads them (an angle
// address without its '>', a domain ending in a dot), as Pigeonhole does
// when it picks the reply's To.
func parseAddresses(v string, validOnly bool) []mail.Address {
	p := addrParser{s: v}
	var out []mail.Address
	for len(out) < maxHeaderAddresses {
		p.skipSeparators()
		if p.eof() {
			break
		}
		p.invalid = false
		a, ok := p.element()
		if !ok {
			break
		}
		if strings.HasSuffix(a.Address, ".") || strings.Contains(domainPart(a.Address), "..") {
			p.invalid = true
		}
		if localPart(a.Address) != "" && domainPart(a.Address) != "" && !(validOnly && p.invalid) {
			out = append(out, a)
		}
	}
	return out
}

// addrParser reads RFC 5322 address lists, tolerating what real mail
// gets wrong.
type addrParser struct {
	s   string
	pos int
	// group is set between a group's colon and its semicolon.
	group bool
	// broken is set by a comment that does not end.
	broken bool
	// invalid is set when the element just read is an address Dovecot
	// reads but marks as invalid syntax.
	invalid bool
}

func (p *addrParser) eof() bool { return p.pos >= len(p.s) }

func (p *addrParser) peek() byte {
	if p.eof() {
		return 0
	}
	return p.s[p.pos]
}

// skipCFWS skips white space and (nested) comments; a comment that does
// not end sets p.broken.
func (p *addrParser) skipCFWS() {
	for !p.eof() {
		switch c := p.s[p.pos]; {
		case c == ' ' || c == '\t' || c == '\r' || c == '\n':
			p.pos++
		case c == '(':
			depth := 0
			for {
				if p.eof() {
					p.broken = true
					return
				}
				c := p.s[p.pos]
				p.pos++
				if c == '\\' {
					if !p.eof() {
						p.pos++
					}
				} else if c == '(' {
					depth++
				} else if c == ')' {
					depth--
					if depth == 0 {
						break
					}
				}
			}
		default:
			return
		}
	}
}

// skipSeparators skips white space, comments, commas and group ends.
// A semicolon outside a group ends the list, as in Dovecot's parser.
func (p *addrParser) skipSeparators() {
	for {
		p.skipCFWS()
		switch p.peek() {
		case ',':
			p.pos++
			continue
		case ';':
			if !p.group {
				p.pos = len(p.s)
				return
			}
			p.group = false
			p.pos++
			p.skipCFWS()
			if c := p.peek(); c != ',' && c != 0 {
				p.pos = len(p.s) // a group is followed by a comma or nothing
				return
			}
			continue
		}
		return
	}
}

func isAtext(c byte) bool {
	return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c >= 0x80 ||
		strings.IndexByte("!#$%&'*+-/=?^_`{|}~.", c) >= 0
}

// word reads an atom (dots allowed) or a quoted string, unquoted.
func (p *addrParser) word() (string, bool) {
	p.skipCFWS()
	if p.peek() == '"' {
		p.pos++
		var b strings.Builder
		for !p.eof() {
			c := p.s[p.pos]
			p.pos++
			switch c {
			case '"':
				return b.String(), true
			case '\\':
				if !p.eof() {
					b.WriteByte(p.s[p.pos])
					p.pos++
				}
			default:
				b.WriteByte(c)
			}
		}
		return b.String(), true // unterminated: take the rest
	}
	start := p.pos
	for !p.eof() && isAtext(p.s[p.pos]) {
		p.pos++
	}
	return p.s[start:p.pos], p.pos > start
}

// domain reads a dot-atom or a domain literal.
func (p *addrParser) domain() string {
	p.skipCFWS()
	if p.peek() == '[' {
		end := strings.IndexByte(p.s[p.pos:], ']')
		if end < 0 {
			d := p.s[p.pos:]
			p.pos = len(p.s)
			return d
		}
		d := p.s[p.pos : p.pos+end+1]
		p.pos += end + 1
		return d
	}
	d, _ := p.word()
	// obs-domain: white space or comments may surround the dots.
	for d != "" {
		save := p.pos
		p.skipCFWS()
		if p.broken {
			break
		}
		if strings.HasSuffix(d, ".") {
			start := p.pos
			for !p.eof() && isAtext(p.s[p.pos]) {
				p.pos++
			}
			if p.pos > start { // an atom, never a quoted string
				d += p.s[start:p.pos]
				continue
			}
		} else if p.peek() == '.' {
			p.pos++
			d += "."
			continue
		}
		p.pos = save
		break
	}
	return d
}

// addrSpec reads local@domain after the local part's first word.
func (p *addrParser) addrSpec(local string) string {
	p.skipCFWS()
	if p.peek() != '@' {
		return local
	}
	p.pos++
	return local + "@" + p.domain()
}

// element reads one mailbox, or a group's display name and colon (the
// group's members follow as elements). ok is false when the text cannot
// be an address.
func (p *addrParser) element() (mail.Address, bool) {
	p.skipCFWS()
	if p.peek() == '.' {
		// No phrase starts with a dot, but a local part may (Dovecot's
		// lenient dots): a dot-led element is an addr-spec or nothing,
		// and after nothing the list goes on only when a comma follows.
		start := p.pos
		for !p.eof() && isAtext(p.s[p.pos]) {
			p.pos++
		}
		local := p.s[start:p.pos]
		p.skipCFWS()
		if p.peek() == '@' && !p.broken {
			a := mail.Address{Address: p.addrSpec(local)}
			return a, p.tail()
		}
		if p.peek() != ',' {
			p.pos = len(p.s)
		}
		return mail.Address{}, true
	}
	var words []string
	for {
		w, ok := p.word()
		if !ok {
			break
		}
		words = append(words, w)
	}
	p.skipCFWS()
	var a mail.Address
	switch p.peek() {
	case '<':
		p.pos++
		p.skipCFWS()
		// Obsolete route: @a,@b:
		if p.peek() == '@' {
			if i := strings.IndexByte(p.s[p.pos:], ':'); i >= 0 {
				p.pos += i + 1
			}
		}
		local, ok := p.word()
		if !ok {
			return a, false
		}
		a.Address = p.addrSpec(local)
		p.skipCFWS()
		if p.broken {
			return a, false // the domain was not read
		}
		a.Name = sieve.DecodeWords(strings.Join(words, " "))
		if p.peek() != '>' {
			// Dovecot keeps an address whose domain it has read even
			// when '>' is missing, as invalid syntax; the list ends.
			p.pos = len(p.s)
			p.invalid = true
			return a, true
		}
		p.pos++
		p.skipCFWS()
		if p.broken {
			// So with an unterminated comment after the '>'.
			p.invalid = true
			return a, true
		}
	case ':':
		if p.group {
			return a, false // groups do not nest
		}
		p.pos++
		p.group = true
		return a, true // the display name may be empty
	case '@':
		if len(words) > 1 {
			return a, false
		}
		a.Address = p.addrSpec(strings.Join(words, ""))
	default:
		switch len(words) {
		case 0:
			return a, false
		case 1:
			a.Address = words[0] // a local part without a domain
		}
		// More words are a display name without an address: skipped,
		// and the list goes on after a comma.
	}
	return a, p.tail()
}

// tail reads what follows an address: false after an unterminated
// comment (the address is lost), and garbage ends the list.
func (p *addrParser) tail() bool {
	p.skipCFWS()
	if p.broken {
		return false
	}
	switch p.peek() {
	case 0, ',', ';', ')':
	default:
		// Garbage after the address ends the list.
		p.pos = len(p.s)
	}
	return true
}

// containsAddress reports whether any of the header values lists addr.
func containsAddress(values []string, addr string) bool {
	if addr == "" {
		return false
	}
	for _, v := range values {
		for _, a := range parseAddressList(v) {
			if sameAddress(a.Address, addr) {
				return true
			}
		}
	}
	return false
}
