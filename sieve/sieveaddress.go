package sieve

import (
	"errors"
	"strings"
)

// The single-address syntax of redirect targets and vacation's :from and
// :addresses (Pigeonhole's "sieve address"): an addr-spec, or a phrase
// followed by an addr-spec in angle brackets. Local parts may have dots at
// odd places (some Japanese providers issue such addresses), but only
// printable ASCII. Errors carry Pigeonhole's explanations.

// rfc822Scanner is a cursor over a header-ish string with RFC 5322
// lexical helpers, modelled on Dovecot's rfc822 parser.
type rfc822Scanner struct {
	s string
	i int
}

func (p *rfc822Scanner) at() byte {
	if p.i < len(p.s) {
		return p.s[p.i]
	}
	return 0
}

func (p *rfc822Scanner) end() bool { return p.i >= len(p.s) }

// skipLWSP skips white space and comments: 1 when data follows, 0 at the
// end, -1 for an unterminated comment.
func (p *rfc822Scanner) skipLWSP() int {
	for p.i < len(p.s) {
		switch p.s[p.i] {
		case ' ', '\t', '\r', '\n':
			p.i++
			continue
		case '(':
			depth := 0
			for {
				if p.i >= len(p.s) {
					return -1
				}
				c := p.s[p.i]
				p.i++
				switch c {
				case '\\':
					if p.i >= len(p.s) {
						return -1
					}
					p.i++
				case '(':
					depth++
				case ')':
					depth--
				}
				if depth == 0 {
					break
				}
			}
			continue
		}
		break
	}
	if p.i < len(p.s) {
		return 1
	}
	return 0
}

// atom reads atext (dot too when dots is set) into b.
func (p *rfc822Scanner) atom(b *strings.Builder, dots bool) int {
	if p.end() || !(isAtext(p.at()) || dots && p.at() == '.') {
		return -1
	}
	start := p.i
	for p.i < len(p.s) && (isAtext(p.s[p.i]) || dots && p.s[p.i] == '.') {
		p.i++
	}
	b.WriteString(p.s[start:p.i])
	return p.skipLWSP()
}

func (p *rfc822Scanner) dotAtom(b *strings.Builder) int {
	if p.end() || !isAtext(p.at()) {
		return -1
	}
	for {
		start := p.i
		for p.i < len(p.s) && isAtext(p.s[p.i]) {
			p.i++
		}
		b.WriteString(p.s[start:p.i])
		if p.end() {
			return 0
		}
		if r := p.skipLWSP(); r <= 0 {
			return r
		}
		if p.at() != '.' {
			return 1
		}
		p.i++
		b.WriteByte('.')
		if r := p.skipLWSP(); r <= 0 {
			return r
		}
	}
}

func (p *rfc822Scanner) quotedString(b *strings.Builder) int {
	p.i++ // '"'
	for p.i < len(p.s) {
		c := p.s[p.i]
		switch c {
		case '"':
			p.i++
			return p.skipLWSP()
		case '\r', '\n':
			p.i++
			continue
		case '\\':
			p.i++
			if p.i >= len(p.s) {
				return -1
			}
			c = p.s[p.i]
		}
		b.WriteByte(c)
		p.i++
	}
	return -1
}

func (p *rfc822Scanner) phrase(b *strings.Builder) int {
	if p.end() {
		return 0
	}
	if p.at() == '.' {
		return -1
	}
	for {
		var r int
		if p.at() == '"' {
			r = p.quotedString(b)
		} else {
			r = p.atomOrDot(b)
		}
		if r <= 0 {
			return r
		}
		if c := p.at(); !isAtext(c) && c != '"' && c != '.' {
			break
		}
		b.WriteByte(' ')
	}
	return p.skipLWSP()
}

// atomOrDot reads atext and dots into b, like Dovecot's
// rfc822_parse_atom_or_dot: reading nothing is no error, so a phrase may
// be empty ("<local@domain>" is a name-addr without a name).
func (p *rfc822Scanner) atomOrDot(b *strings.Builder) int {
	start := p.i
	for p.i < len(p.s) && (isAtext(p.s[p.i]) || p.s[p.i] == '.') {
		p.i++
	}
	b.WriteString(p.s[start:p.i])
	if p.end() {
		return 0
	}
	return p.skipLWSP()
}

func (p *rfc822Scanner) domain(b *strings.Builder) int {
	p.i++ // '@'
	if p.skipLWSP() <= 0 {
		return -1
	}
	if p.at() != '[' {
		return p.dotAtom(b)
	}
	start := p.i
	for p.i < len(p.s) && p.s[p.i] != ']' {
		if p.s[p.i] == '\\' {
			p.i++
		}
		p.i++
	}
	if p.i >= len(p.s) {
		return -1
	}
	p.i++
	b.WriteString(p.s[start:p.i])
	return p.skipLWSP()
}

// sieveAddrParser parses one sieve address, remembering the first error.
type sieveAddrParser struct {
	rfc822Scanner
	local, domain strings.Builder
	err           string
}

func (p *sieveAddrParser) fail(format string, args ...any) int {
	if p.err == "" {
		p.err = sprintf(format, args...)
	}
	return -1
}

func (p *sieveAddrParser) localPart() int {
	if p.end() {
		return p.fail("empty local part")
	}
	p.local.Reset()
	ret := -1
	if p.at() == '"' {
		ret = p.quotedString(&p.local)
	} else {
		for {
			for p.at() == '.' {
				p.local.WriteByte('.')
				p.i++
				if p.end() {
					return 0 // the domain is missing, the local part is fine
				}
				ret = 1
			}
			if p.at() == '@' {
				break
			}
			ret = p.atom(&p.local, false)
			if ret <= 0 || p.at() != '.' {
				break
			}
		}
	}
	if ret < 0 || !printableASCII(p.local.String()) {
		return p.fail("invalid local part")
	}
	return ret
}

func printableASCII(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] < 0x20 || s[i] > 0x7e {
			return false
		}
	}
	return true
}

func (p *sieveAddrParser) addrSpec() int {
	ret := p.localPart()
	if ret < 0 {
		return ret
	}
	if ret > 0 && p.at() == '@' {
		p.domain.Reset()
		if p.rfc822Scanner.domain(&p.domain) < 0 {
			return p.fail("invalid or missing domain")
		}
		return 0
	}
	return p.fail("invalid or lonely local part '%s' (expecting '@')", sanitize(p.local.String(), 80))
}

func (p *sieveAddrParser) mailbox() int {
	start := p.i
	var name strings.Builder
	if p.phrase(&name) <= 0 || p.at() != '<' {
		p.i = start
		return p.addrSpec()
	}
	p.i++
	if r := p.skipLWSP(); r <= 0 {
		if r < 0 {
			return p.fail("invalid characters after <")
		}
		return r
	}
	if p.addrSpec() < 0 {
		return -1
	}
	if p.at() != '>' {
		return p.fail("missing '>'")
	}
	p.i++
	if r := p.skipLWSP(); r < 0 {
		return p.fail("address ends with invalid characters")
	}
	return 0
}

// ParseAddress parses one address written as redirect's target and
// vacation's :from and :addresses are (Pigeonhole's sieve address): an
// addr-spec, or an optional phrase and an addr-spec in angle brackets.
// It returns local@domain, the local part unquoted and the domain
// lower-cased, or an error saying why s is no such address.
func ParseAddress(s string) (string, error) {
	a, why := parseSieveAddress(s)
	if why != "" {
		return "", errors.New(why)
	}
	return a.local + "@" + a.domain, nil
}

// parseSieveAddress parses a single address; err explains why it is
// invalid. The domain is lower-cased.
func parseSieveAddress(s string) (a mailAddress, err string) {
	p := &sieveAddrParser{rfc822Scanner: rfc822Scanner{s: s}}
	p.skipLWSP()
	if p.end() {
		return a, "empty address"
	}
	if p.mailbox() < 0 {
		return a, p.err
	}
	if !p.end() {
		if p.at() == ',' {
			return a, "not a single address (found ',')"
		}
		return a, "address ends in invalid characters"
	}
	if p.domain.Len() == 0 {
		return a, "missing domain"
	}
	if p.local.Len() == 0 {
		return a, "missing local part"
	}
	return mailAddress{local: p.local.String(), domain: strings.ToLower(p.domain.String())}, ""
}

// smtpString renders an address for the SMTP envelope: the local part is
// quoted unless it is a dot-atom.
func (a mailAddress) smtpString() string {
	local := a.local
	if !isDotAtom(local) {
		var b strings.Builder
		b.WriteByte('"')
		for i := 0; i < len(local); i++ {
			if local[i] == '"' || local[i] == '\\' {
				b.WriteByte('\\')
			}
			b.WriteByte(local[i])
		}
		b.WriteByte('"')
		local = b.String()
	}
	if a.domain == "" {
		return local
	}
	return local + "@" + a.domain
}

func isDotAtom(s string) bool {
	if s == "" {
		return false
	}
	for _, part := range strings.Split(s, ".") {
		if part == "" {
			return false
		}
		for i := 0; i < len(part); i++ {
			if !isAtext(part[i]) || part[i] >= 0x80 {
				return false
			}
		}
	}
	return true
}
