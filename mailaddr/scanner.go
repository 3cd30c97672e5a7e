package mailaddr

import "strings"

// scanner is a cursor over a header-ish string with the lexical rules of
// RFC 5322 as Dovecot's rfc822 parser applies them. The methods that read
// a token return 1 when more input follows it, 0 at the end of the input
// and -1 on a syntax error, as Dovecot's do; callers depend on the
// position each leaves behind on error.
type scanner struct {
	s string
	i int
	// comment, when non-nil, receives the text of the last comment
	// skipped.
	comment *strings.Builder
}

// at is the current byte, 0 at the end (as C's terminating NUL).
func (p *scanner) at() byte {
	if p.i < len(p.s) {
		return p.s[p.i]
	}
	return 0
}

func (p *scanner) end() bool { return p.i >= len(p.s) }

// more is 1 when input follows, else 0.
func (p *scanner) more() int {
	if p.i < len(p.s) {
		return 1
	}
	return 0
}

// IsAtext reports RFC 5322 atext, with every byte of UTF-8 (0x80 and up)
// counted as one, as Dovecot does.
func IsAtext(c byte) bool {
	if c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c >= 0x80 {
		return true
	}
	return strings.IndexByte("!#$%&'*+-/=?^_`{|}~", c) >= 0
}

// skipLWSP skips white space and comments: 1 when data follows, 0 at the
// end, -1 for an unterminated comment.
func (p *scanner) skipLWSP() int {
	for p.i < len(p.s) {
		switch p.s[p.i] {
		case ' ', '\t', '\r', '\n':
			p.i++
			continue
		case '(':
			if p.skipComment() < 0 {
				return -1
			}
			continue
		}
		break
	}
	return p.more()
}

// skipComment skips a (nested) comment starting at '(' and records its
// text.
func (p *scanner) skipComment() int {
	if p.comment != nil {
		p.comment.Reset()
	}
	p.i++
	start, depth := p.i, 1
	for ; p.i < len(p.s); p.i++ {
		switch p.s[p.i] {
		case '(':
			depth++
		case ')':
			depth--
			if depth == 0 {
				if p.comment != nil {
					p.comment.WriteString(p.s[start:p.i])
				}
				p.i++
				return p.more()
			}
		case '\\':
			if p.comment != nil {
				p.comment.WriteString(p.s[start:p.i])
			}
			p.i++
			start = p.i
			if p.end() {
				return -1
			}
		}
	}
	return -1
}

// atom reads atext into b.
func (p *scanner) atom(b *strings.Builder) int {
	if p.end() || !IsAtext(p.at()) {
		return -1
	}
	start := p.i
	for p.i < len(p.s) && IsAtext(p.s[p.i]) {
		p.i++
	}
	b.WriteString(p.s[start:p.i])
	return p.skipLWSP()
}

// dotAtom reads a dot-atom into b; white space and comments may surround
// the dots (RFC 822).
func (p *scanner) dotAtom(b *strings.Builder) int {
	if p.end() || !IsAtext(p.at()) {
		return -1
	}
	for {
		start := p.i
		for p.i < len(p.s) && IsAtext(p.s[p.i]) {
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

// looseDotAtom reads a local part whose dots may lead, trail or repeat
// (Dovecot's non-strict dots: such addresses are common in Japan).
func (p *scanner) looseDotAtom(b *strings.Builder) int {
	ret := -1
	for {
		for p.at() == '.' {
			b.WriteByte('.')
			p.i++
			if p.end() {
				return 0 // the domain is missing, the local part is fine
			}
			ret = 1
		}
		if p.at() == '@' {
			return ret
		}
		ret = p.atom(b)
		if ret <= 0 || p.at() != '.' {
			return ret
		}
	}
}

// quotedString reads a quoted string (at '"') into b, unquoted; line
// breaks inside are folding and dropped.
func (p *scanner) quotedString(b *strings.Builder) int {
	p.i++
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

// phrase reads words (atoms, quoted strings, and dots, as obs-phrase
// allows) into b, separated by single spaces. Reading nothing is no
// error: "<a@b>" is a name-addr with an empty name.
func (p *scanner) phrase(b *strings.Builder) int {
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
		if c := p.at(); !IsAtext(c) && c != '"' && c != '.' {
			break
		}
		b.WriteByte(' ')
	}
	return p.skipLWSP()
}

// atomOrDot reads atext and dots into b, possibly nothing.
func (p *scanner) atomOrDot(b *strings.Builder) int {
	start := p.i
	for p.i < len(p.s) && (IsAtext(p.s[p.i]) || p.s[p.i] == '.') {
		p.i++
	}
	b.WriteString(p.s[start:p.i])
	if p.end() {
		return 0
	}
	return p.skipLWSP()
}

// domain reads the domain after '@' (at the '@'): a dot-atom or a domain
// literal.
func (p *scanner) domain(b *strings.Builder) int {
	p.i++
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
