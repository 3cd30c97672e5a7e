package sieve

import "strings"

// parseSMTPPath parses an SMTP envelope path (RFC 5321 §4.1.2) the way
// Dovecot does for Sieve: the angle brackets are optional, "<>" and ""
// are the null path, a source route is accepted and dropped, the domain
// may be left out, and local parts may carry dots at odd places. null is
// true for the null path; ok is false when s is not a valid path.
func parseSMTPPath(s string) (a mailAddress, null, ok bool) {
	p := &rfc822Scanner{s: s}
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
				if _, good := smtpDomain(p); !good {
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
	local, good := smtpLocalPart(p)
	if !good {
		return a, false, false
	}
	a.local = local
	if p.at() == '@' {
		p.i++
		d, good := smtpDomain(p)
		if !good {
			return mailAddress{}, false, false
		}
		a.domain = d
	}
	if brackets {
		if p.at() != '>' {
			return mailAddress{}, false, false
		}
		p.i++
	}
	if !p.end() {
		return mailAddress{}, false, false
	}
	return a, false, true
}

// smtpLocalPart reads a quoted string or a dot-string that may have dots
// anywhere (as Dovecot tolerates).
func smtpLocalPart(p *rfc822Scanner) (string, bool) {
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
	for p.i < len(p.s) && (p.s[p.i] == '.' || isAtext(p.s[p.i])) {
		p.i++
	}
	if start == p.i {
		return "", false
	}
	return p.s[start:p.i], true
}

// smtpDomain reads a domain (labels of letters, digits, '-' and '_') or
// an address literal.
func smtpDomain(p *rfc822Scanner) (string, bool) {
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
		for p.i < len(p.s) && (isAlpha(p.s[p.i]) || isDigit(p.s[p.i]) || p.s[p.i] == '-' || p.s[p.i] == '_') {
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

// NormalizePath parses an SMTP envelope path as parseSMTPPath does and
// returns it as the envelope carries it: without angle brackets, the
// local part quoted unless it is a dot-atom, "" for the null path. ok is
// false when s is not a valid path.
func NormalizePath(s string) (path string, ok bool) {
	a, null, ok := parseSMTPPath(strings.TrimSpace(s))
	switch {
	case !ok:
		return "", false
	case null:
		return "", true
	}
	return a.smtpString(), true
}

// QuoteAddress writes addr, whose local part a parser may have unquoted
// (go-smtp hands `"a b"@x` over as `a b@x`), as the envelope carries it:
// the local part quoted unless it is a dot-atom. "" stays "".
func QuoteAddress(addr string) string {
	i := strings.LastIndexByte(addr, '@')
	if addr == "" || i < 0 {
		return addr
	}
	return mailAddress{local: addr[:i], domain: addr[i+1:]}.smtpString()
}
