package mailaddr

import (
	"errors"
	"fmt"
	"strings"
)

// The single-address syntax of redirect targets, vacation's :from and
// :addresses and notify's :from (Pigeonhole's "sieve address"): an
// addr-spec, or a phrase followed by an addr-spec in angle brackets.
// Local parts may have dots at odd places, but only printable ASCII.

// ParseMailbox parses one Sieve address. The local part is unquoted and
// the domain lower-cased; Name is the phrase, when there is one. The
// error explains, in Pigeonhole's words, why s is no such address.
func ParseMailbox(s string) (Address, error) {
	p := &mailboxParser{scanner: scanner{s: s}}
	p.skipLWSP()
	if p.end() {
		return Address{}, errors.New("empty address")
	}
	if p.mailbox() < 0 {
		return Address{}, errors.New(p.err)
	}
	switch {
	case !p.end() && p.at() == ',':
		return Address{}, errors.New("not a single address (found ',')")
	case !p.end():
		return Address{}, errors.New("address ends in invalid characters")
	case p.domain.Len() == 0:
		return Address{}, errors.New("missing domain")
	case p.local.Len() == 0:
		return Address{}, errors.New("missing local part")
	}
	return Address{Name: p.name, Local: p.local.String(), Domain: strings.ToLower(p.domain.String())}, nil
}

// mailboxParser parses one Sieve address, remembering the first error.
type mailboxParser struct {
	scanner
	name          string
	local, domain strings.Builder
	err           string
}

func (p *mailboxParser) fail(format string, args ...any) int {
	if p.err == "" {
		p.err = fmt.Sprintf(format, args...)
	}
	return -1
}

func (p *mailboxParser) localPart() int {
	if p.end() {
		return p.fail("empty local part")
	}
	p.local.Reset()
	var ret int
	if p.at() == '"' {
		ret = p.quotedString(&p.local)
	} else {
		ret = p.looseDotAtom(&p.local)
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

func (p *mailboxParser) addrSpec() int {
	ret := p.localPart()
	if ret < 0 {
		return ret
	}
	if ret > 0 && p.at() == '@' {
		p.domain.Reset()
		if p.scanner.domain(&p.domain) < 0 {
			return p.fail("invalid or missing domain")
		}
		return 0
	}
	return p.fail("invalid or lonely local part '%s' (expecting '@')", Sanitize(p.local.String(), 80))
}

func (p *mailboxParser) mailbox() int {
	start := p.i
	var name strings.Builder
	if p.phrase(&name) <= 0 || p.at() != '<' {
		p.i = start
		return p.addrSpec()
	}
	p.name = name.String()
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
