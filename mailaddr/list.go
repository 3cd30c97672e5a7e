package mailaddr

import "strings"

// Kind tells an element of an address list apart.
type Kind uint8

const (
	Mailbox    Kind = iota // an address (possibly invalid)
	GroupStart             // "name:" opening a group; Name holds the name
	GroupEnd               // the ";" closing a group
)

// Address is an element of an address list, or a single address.
type Address struct {
	Kind Kind
	// Name is the display name (a phrase, or a comment after an
	// addr-spec), as written: encoded words are not decoded.
	Name string
	// Route is an obsolete source route ("@a,@b"), "" when there is none.
	Route string
	// Local is the local part, unquoted; Domain is "" when missing.
	Local, Domain string
	// Invalid is set when the element broke the syntax but Dovecot still
	// reads it (an angle address without its '>', say). Its Local and
	// Domain hold what could be read.
	Invalid bool
}

// String is local@domain (local alone without a domain), as Sieve's
// address test and Dovecot show it: the local part is not quoted.
func (a Address) String() string {
	if a.Domain == "" {
		return a.Local
	}
	return a.Local + "@" + a.Domain
}

// Complete reports whether a is a mailbox with a local part and a domain.
func (a Address) Complete() bool { return a.Kind == Mailbox && a.Local != "" && a.Domain != "" }

// ParseList reads the address list of a header field value as Dovecot's
// message_address_parse does (with non-strict dots): mailboxes and groups
// in order, group boundaries as GroupStart/GroupEnd elements, and a
// malformed element kept as Invalid. After a malformed element the list
// goes on when the parse stopped at a comma ("a@x, garbage<, b@y" yields
// a@x, an invalid element and b@y); anything else there ends the list.
// At most max top-level elements (a group counts once) are read; max <= 0
// means no limit.
func ParseList(v string, max int) []Address {
	p := &listParser{scanner: scanner{s: v, comment: &strings.Builder{}}}
	if p.skipLWSP() <= 0 {
		return nil
	}
	for n := 0; max <= 0 || n < max; n++ {
		if p.address() == 0 {
			break
		}
		if p.at() != ',' {
			break
		}
		p.i++
		if r := p.skipLWSP(); r <= 0 {
			if r < 0 {
				p.addFixed() // the list ends with garbage
			}
			break
		}
	}
	return p.out
}

// listParser builds the elements of one address list.
type listParser struct {
	scanner
	str strings.Builder // the token being read
	cur element
	out []Address
}

// element is the address being read; the has* fields tell a missing part
// from an empty one, as Dovecot's NULL from "".
type element struct {
	Address
	hasName, hasLocal, hasDomain bool
}

func (p *listParser) add(k Kind) {
	a := p.cur.Address
	a.Kind = k
	p.out = append(p.out, a)
	p.cur = element{}
}

// addFixed adds the current mailbox, marking it invalid when its local
// part or domain is missing.
func (p *listParser) addFixed() {
	if !p.cur.hasLocal {
		p.cur.Invalid = true
	}
	if !p.cur.hasDomain || p.cur.Domain == "" {
		p.cur.Domain = ""
		p.cur.Invalid = true
	}
	p.add(Mailbox)
}

// address reads a group or a mailbox.
func (p *listParser) address() int {
	start := p.i
	if r := p.group(); r >= 0 {
		return r
	}
	p.i = start
	return p.mailbox()
}

// group reads "name: mailbox, ...;". It fails (-1) only when the input
// is no group; problems later mark the group's end invalid.
func (p *listParser) group() int {
	p.str.Reset()
	if p.phrase(&p.str) <= 0 || p.at() != ':' {
		return -1
	}
	p.i++
	ret := p.skipLWSP()
	if ret <= 0 {
		p.cur.Invalid = true
	}
	p.cur.Name = p.str.String()
	p.add(GroupStart)
	if ret > 0 && p.at() != ';' {
		for {
			p.mailbox() // a broken mailbox: go on anyway
			if p.at() != ',' {
				break
			}
			p.i++
			if p.skipLWSP() <= 0 {
				ret = -1
				break
			}
		}
	}
	if ret >= 0 {
		if p.at() != ';' {
			ret = -1
		} else {
			p.i++
			ret = p.skipLWSP()
		}
	}
	if ret < 0 {
		p.cur.Invalid = true
	}
	p.add(GroupEnd)
	if ret == 0 {
		return 0
	}
	return 1
}

// mailbox reads a name-addr or, failing that, an addr-spec, and adds it.
func (p *listParser) mailbox() int {
	start := p.i
	ret := p.nameAddr()
	if ret < 0 {
		p.i = start
		ret = p.addrSpec()
		if c := &p.cur; c.Invalid && !c.hasName && c.hasLocal && !c.hasDomain {
			// A lone word is a display name without an address.
			c.Name, c.hasName = c.Local, true
			c.Local, c.hasLocal = "", false
		}
	}
	if ret < 0 {
		p.cur.Invalid = true
	}
	p.addFixed()
	return ret
}

// nameAddr reads "[phrase] <addr-spec>". Once the '<' is read it does not
// fail: a broken angle address is an invalid element, and the list goes
// on from where it broke.
func (p *listParser) nameAddr() int {
	p.str.Reset()
	if p.phrase(&p.str) <= 0 || p.at() != '<' {
		return -1
	}
	if name := p.str.String(); name != "" {
		p.cur.Name, p.cur.hasName = name, true
	}
	if p.angleAddr() < 0 {
		p.cur.Invalid = true
	}
	return p.more()
}

// angleAddr reads "<[@route:]local@domain>" (at the '<'); "<>" is read
// as an address without parts.
func (p *listParser) angleAddr() int {
	p.i++
	if p.skipLWSP() <= 0 {
		return -1
	}
	if p.at() == '@' {
		if p.route() > 0 && p.at() == ':' {
			p.i++
		} else if p.end() {
			return -1
		}
		// else: an invalid route; try to go on anyway.
		if p.skipLWSP() <= 0 {
			return -1
		}
	}
	if p.at() != '>' {
		if p.localPart() <= 0 {
			return -1
		}
		if p.at() == '@' && p.domainPart() <= 0 {
			return -1
		}
	}
	if p.at() != '>' {
		return -1
	}
	p.i++
	return p.skipLWSP()
}

// route reads an obsolete route: "@a,@b".
func (p *listParser) route() int {
	var b strings.Builder
	for {
		if p.end() {
			return 0
		}
		if p.at() != '@' {
			break
		}
		if b.Len() > 0 {
			b.WriteByte(',')
		}
		b.WriteByte('@')
		if r := p.domain(&b); r <= 0 {
			return r
		}
		for p.skipLWSP() > 0 && p.at() == ',' {
			p.i++
		}
	}
	p.cur.Route = b.String()
	return 1
}

// addrSpec reads "local@domain". A local part without a domain followed
// by more words is a display name.
func (p *listParser) addrSpec() int {
	p.comment.Reset()
	quoted := p.at() == '"'
	ret := p.localPart()
	if ret <= 0 {
		p.cur.Invalid = true
	}
	domain := -2 // not read
	if ret != 0 && p.at() == '@' {
		domain = p.domainPart()
		if domain <= 0 {
			ret = domain
		}
	}
	switch {
	case p.comment.Len() > 0:
		p.cur.Name, p.cur.hasName = p.comment.String(), true
	case domain == -2:
		p.str.WriteByte(' ')
		n := p.str.Len()
		p.phrase(&p.str)
		if p.str.Len() != n {
			p.cur.Local, p.cur.hasLocal = "", false
			p.cur.Name, p.cur.hasName = p.str.String(), true
		} else if !quoted {
			p.cur.Domain, p.cur.hasDomain = "", true
		}
		p.cur.Invalid = true
		ret = -1
	}
	return ret
}

func (p *listParser) localPart() int {
	p.str.Reset()
	var ret int
	if p.at() == '"' {
		ret = p.quotedString(&p.str)
	} else {
		ret = p.looseDotAtom(&p.str)
	}
	if ret < 0 {
		return -1
	}
	p.cur.Local, p.cur.hasLocal = p.str.String(), true
	return ret
}

func (p *listParser) domainPart() int {
	var b strings.Builder
	ret := p.domain(&b)
	if ret < 0 {
		return -1
	}
	p.cur.Domain, p.cur.hasDomain = b.String(), true
	return ret
}
