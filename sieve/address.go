package sieve

import "strings"

// mailAddress is one address found in a header field or the envelope.
type mailAddress struct {
	local  string
	domain string // "" when the address has no domain
}

func (a mailAddress) String() string {
	if a.domain == "" {
		return a.local
	}
	return a.local + "@" + a.domain
}

// addrParser parses RFC 5322 address lists leniently: groups, comments,
// quoted local parts, display names and obsolete routes are understood.
type addrParser struct {
	s string
	i int
}

// parseAddressList returns the addresses in a header value and whether the
// whole value parsed. Empty groups and empty list elements are skipped.
func parseAddressList(v string) ([]mailAddress, bool) {
	p := &addrParser{s: v}
	var out []mailAddress
	ok := true
	for {
		p.skipCFWS()
		if p.i >= len(p.s) {
			break
		}
		if p.s[p.i] == ',' {
			p.i++
			continue
		}
		addrs, good := p.address()
		out = append(out, addrs...)
		if !good {
			ok = false
			// resynchronize at the next comma
			for p.i < len(p.s) && p.s[p.i] != ',' {
				p.i++
			}
		}
	}
	return out, ok
}

// parseAddress parses a single address (as in the envelope or redirect),
// with or without angle brackets.
func parseAddress(v string) (mailAddress, bool) {
	addrs, ok := parseAddressList(v)
	if !ok || len(addrs) != 1 {
		return mailAddress{}, false
	}
	return addrs[0], true
}

func (p *addrParser) skipCFWS() {
	for p.i < len(p.s) {
		c := p.s[p.i]
		switch {
		case c == ' ' || c == '\t' || c == '\r' || c == '\n':
			p.i++
		case c == '(':
			depth := 0
			for p.i < len(p.s) {
				switch p.s[p.i] {
				case '\\':
					p.i++
				case '(':
					depth++
				case ')':
					depth--
				}
				p.i++
				if depth == 0 {
					break
				}
			}
		default:
			return
		}
	}
}

func isAtext(c byte) bool {
	if isAlpha(c) || isDigit(c) || c >= 0x80 {
		return true
	}
	return strings.IndexByte("!#$%&'*+-/=?^_`{|}~", c) >= 0
}

// word reads an atom or a quoted string; quoted strings are returned
// unquoted.
func (p *addrParser) word() (string, bool) {
	p.skipCFWS()
	if p.i >= len(p.s) {
		return "", false
	}
	if p.s[p.i] == '"' {
		p.i++
		var b strings.Builder
		for p.i < len(p.s) {
			c := p.s[p.i]
			if c == '\\' && p.i+1 < len(p.s) {
				b.WriteByte(p.s[p.i+1])
				p.i += 2
				continue
			}
			if c == '"' {
				p.i++
				return b.String(), true
			}
			if c != '\r' && c != '\n' {
				b.WriteByte(c)
			}
			p.i++
		}
		return "", false
	}
	start := p.i
	for p.i < len(p.s) && isAtext(p.s[p.i]) {
		p.i++
	}
	if start == p.i {
		return "", false
	}
	return p.s[start:p.i], true
}

// address parses a mailbox or a group.
func (p *addrParser) address() ([]mailAddress, bool) {
	p.skipCFWS()
	start := p.i
	// Try: phrase followed by ':' (group) or '<' (name-addr), else addr-spec.
	for {
		p.skipCFWS()
		if p.i >= len(p.s) {
			break
		}
		c := p.s[p.i]
		if c == '<' {
			p.i++
			a, ok := p.angleAddr()
			return []mailAddress{a}, ok
		}
		if c == ':' {
			p.i++
			return p.group()
		}
		if c == '.' {
			p.i++
			continue
		}
		if _, ok := p.word(); !ok {
			break
		}
	}
	p.i = start
	a, ok := p.addrSpec()
	if ok {
		p.skipCFWS()
		if p.i < len(p.s) && p.s[p.i] != ',' && p.s[p.i] != ';' {
			return []mailAddress{a}, false
		}
	}
	return []mailAddress{a}, ok
}

func (p *addrParser) group() ([]mailAddress, bool) {
	var out []mailAddress
	for {
		p.skipCFWS()
		if p.i >= len(p.s) {
			return out, true // missing ';' is tolerated
		}
		switch p.s[p.i] {
		case ';':
			p.i++
			return out, true
		case ',':
			p.i++
			continue
		}
		a, ok := p.address()
		out = append(out, a...)
		if !ok {
			return out, false
		}
	}
}

func (p *addrParser) angleAddr() (mailAddress, bool) {
	p.skipCFWS()
	// obsolete route: @a,@b:
	if p.i < len(p.s) && p.s[p.i] == '@' {
		for p.i < len(p.s) && p.s[p.i] != ':' {
			p.i++
		}
		if p.i < len(p.s) {
			p.i++
		}
	}
	p.skipCFWS()
	if p.i < len(p.s) && p.s[p.i] == '>' {
		p.i++
		return mailAddress{}, false
	}
	a, ok := p.addrSpec()
	p.skipCFWS()
	if p.i >= len(p.s) || p.s[p.i] != '>' {
		return a, false
	}
	p.i++
	return a, ok
}

func (p *addrParser) addrSpec() (mailAddress, bool) {
	var local strings.Builder
	if !p.dotWords(&local) {
		return mailAddress{local: local.String()}, false
	}
	if p.i >= len(p.s) || p.s[p.i] != '@' {
		return mailAddress{local: local.String()}, false
	}
	p.i++
	p.skipCFWS()
	var domain strings.Builder
	if p.i < len(p.s) && p.s[p.i] == '[' {
		end := strings.IndexByte(p.s[p.i:], ']')
		if end < 0 {
			return mailAddress{local: local.String()}, false
		}
		domain.WriteString(p.s[p.i : p.i+end+1])
		p.i += end + 1
	} else if !p.dotWords(&domain) {
		return mailAddress{local: local.String(), domain: domain.String()}, false
	}
	return mailAddress{local: local.String(), domain: domain.String()}, true
}

// dotWords reads words separated by '.' (each followed by optional CFWS)
// into b, dots included; false when a word is missing, with b holding
// what came before it.
func (p *addrParser) dotWords(b *strings.Builder) bool {
	for {
		w, ok := p.word()
		if !ok {
			return false
		}
		b.WriteString(w)
		p.skipCFWS()
		if p.i < len(p.s) && p.s[p.i] == '.' {
			b.WriteByte('.')
			p.i++
			continue
		}
		return true
	}
}

// addressPart extracts a part of an address; ok is false when the part
// does not exist (e.g. :detail without a separator).
func (r *run) addressPart(ap addrPart, a mailAddress) (string, bool) {
	switch ap {
	case apLocal:
		return a.local, true
	case apDomain:
		return a.domain, true
	case apUser, apDetail:
		delims := r.settings().String("recipient_delimiter", "+")
		user, detail, found := splitDetail(a.local, delims)
		if ap == apUser {
			return user, true
		}
		return detail, found
	}
	return a.smtpString(), true
}

// splitDetail splits a local part at the first of the delimiter characters.
func splitDetail(local, delims string) (user, detail string, found bool) {
	if delims == "" {
		return local, "", false
	}
	if i := strings.IndexAny(local, delims); i >= 0 {
		return local[:i], local[i+1:], true
	}
	return local, "", false
}

// FirstAddress returns the first address of the first of the named header
// fields that holds one, as Pigeonhole's testsuite and sieve-test derive
// the envelope from the message.
func (m *Message) FirstAddress(names ...string) (string, bool) {
	for _, name := range names {
		for _, v := range m.Header(name) {
			if addrs, _ := parseAddressList(v); len(addrs) > 0 && addrs[0].local != "" {
				return addrs[0].String(), true
			}
		}
	}
	return "", false
}
