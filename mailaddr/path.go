package mailaddr

import "strings"

// ParsePath parses an SMTP envelope path (RFC 5321 §4.1.2) the way
// Dovecot does for Sieve: the angle brackets are optional, "<>" and ""
// are the null path, a source route is accepted and dropped, the domain
// may be left out, and local parts may carry dots at odd places. null is
// true for the null path; ok is false when s is not a valid path.
func ParsePath(s string) (a Address, null, ok bool) {
	p := &scanner{s: s}
	if p.end() {
		return a, true, true
	}
	brackets := p.at() == '<'
	if brackets {
		p.i++
		if p.at() == '>' {
			p.i++
			return a, true, p.end()
		}
		if p.at() == '@' { // source route: @a,@b:
			for {
				p.i++
				if _, good := pathDomain(p); !good {
					return a, false, false
				}
				if p.at() == ',' {
					p.i++
					if p.at() != '@' {
						return a, false, false
					}
					continue
				}
				if p.at() != ':' {
					return a, false, false
				}
				p.i++
				break
			}
		}
	}
	local, good := pathLocalPart(p)
	if !good {
		return a, false, false
	}
	a.Local = local
	if p.at() == '@' {
		p.i++
		d, good := pathDomain(p)
		if !good {
			return Address{}, false, false
		}
		a.Domain = d
	}
	if brackets {
		if p.at() != '>' {
			return Address{}, false, false
		}
		p.i++
	}
	if !p.end() {
		return Address{}, false, false
	}
	return a, false, true
}

// NormalizePath parses s with ParsePath and returns it as the envelope
// carries it: without angle brackets, the local part quoted unless it is
// a dot-atom, "" for the null path. ok is false when s is not a valid
// path.
func NormalizePath(s string) (path string, ok bool) {
	a, null, ok := ParsePath(strings.TrimSpace(s))
	switch {
	case !ok:
		return "", false
	case null:
		return "", true
	}
	return a.SMTP(), true
}

// pathLocalPart reads a quoted string or a dot-string that may have dots
// anywhere (as Dovecot tolerates).
func pathLocalPart(p *scanner) (string, bool) {
	if p.at() == '"' {
		var b strings.Builder
		p.i++
		for p.i < len(p.s) {
			c := p.s[p.i]
			switch {
			case c == '"':
				p.i++
				return b.String(), true
			case c == '\\':
				p.i++
				if p.i >= len(p.s) {
					return "", false
				}
				c = p.s[p.i]
			case c < 0x20 || c == 0x7f:
				return "", false
			}
			b.WriteByte(c)
			p.i++
		}
		return "", false
	}
	start := p.i
	for p.i < len(p.s) && (p.s[p.i] == '.' || IsAtext(p.s[p.i])) {
		p.i++
	}
	if start == p.i {
		return "", false
	}
	return p.s[start:p.i], true
}

// pathDomain reads a domain (labels of letters, digits, '-' and '_') or
// an address literal.
func pathDomain(p *scanner) (string, bool) {
	start := p.i
	if p.at() == '[' {
		end := strings.IndexByte(p.s[p.i:], ']')
		if end < 0 {
			return "", false
		}
		p.i += end + 1
		return p.s[start:p.i], true
	}
	for {
		ls := p.i
		for p.i < len(p.s) && isLabelChar(p.s[p.i]) {
			p.i++
		}
		if ls == p.i {
			return "", false
		}
		if p.at() != '.' {
			break
		}
		p.i++
	}
	return p.s[start:p.i], true
}

func isLabelChar(c byte) bool {
	return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '-' || c == '_'
}

// SMTP renders the address for the SMTP envelope: the local part is
// quoted unless it is an ASCII dot-atom (as Dovecot encodes it).
func (a Address) SMTP() string {
	local := QuoteLocal(a.Local, false)
	if a.Domain == "" {
		return local
	}
	return local + "@" + a.Domain
}

// QuoteLocal writes a local part as a dot-atom when it is one, else as a
// quoted string. With utf8, UTF-8 counts as atext (RFC 6531's SMTPUTF8
// local parts); else only ASCII dot-atoms go unquoted.
func QuoteLocal(local string, utf8 bool) string {
	if IsDotAtom(local, utf8) {
		return local
	}
	var b strings.Builder
	b.WriteByte('"')
	for i := 0; i < len(local); i++ {
		if local[i] == '"' || local[i] == '\\' {
			b.WriteByte('\\')
		}
		b.WriteByte(local[i])
	}
	b.WriteByte('"')
	return b.String()
}

// IsDotAtom reports whether s is a dot-atom (RFC 5322 §3.2.3), with
// UTF-8 as atext when utf8 is set.
func IsDotAtom(s string, utf8 bool) bool {
	if s == "" {
		return false
	}
	for _, part := range strings.Split(s, ".") {
		if part == "" {
			return false
		}
		for i := 0; i < len(part); i++ {
			if !IsAtext(part[i]) || part[i] >= 0x80 && !utf8 {
				return false
			}
		}
	}
	return true
}
