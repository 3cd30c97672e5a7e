package vacation

import (
	"strings"

	"github.com/emersion/go-message/mail"

	"github.com/vacationd/vacationd/mailaddr"
	"github.com/vacationd/vacationd/sieve"
)

// maxHeaderAddresses bounds how many addresses of one header field are
// looked at, as Pigeonhole does.
const maxHeaderAddresses = 256

// sameAddress compares two addresses as Pigeonhole does: local part and
// domain both case-insensitively.
func sameAddress(a, b string) bool { return a != "" && strings.EqualFold(a, b) }

// isSystemAddress reports the senders that never get a reply: MAILER-DAEMON,
// LISTSERV, majordomo, *-request* and owner-* local parts.
func isSystemAddress(addr string) bool {
	lp, _ := mailaddr.Split(addr)
	l := strings.ToLower(lp)
	return l == "mailer-daemon" || l == "listserv" || l == "majordomo" ||
		strings.Contains(lp, "-request") || strings.HasPrefix(lp, "owner-")
}

// parseMailbox parses one address as written in :from or :addresses, with
// Pigeonhole's rules (mailaddr.ParseMailbox): "Name <local@domain>",
// "<local@domain>" or "local@domain". The display name, when there is
// one, is kept (encoded words decoded) for the From field.
func parseMailbox(s string) (a mail.Address, ok bool) {
	if strings.ContainsAny(s, "\x00\r\n") {
		return a, false
	}
	p, err := mailaddr.ParseMailbox(s)
	if err != nil {
		return a, false
	}
	a.Address = p.String()
	if name, ok := rawQuotedName(s); ok {
		a.Name = name
	} else {
		a.Name = sieve.DecodeWords(p.Name)
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
// Pigeonhole reads them (mailaddr.ParseList, Dovecot's parser): mailboxes
// and groups in order, elements without a local part or domain skipped, a
// malformed element skipped with the list going on after it when a comma
// follows. At most maxHeaderAddresses elements are read.
func parseAddressList(v string) []mail.Address { return parseAddresses(v, false) }

// parseAddresses is parseAddressList; with validOnly it leaves out the
// addresses Dovecot marks as invalid syntax though it reads them (an angle
// address without its '>', a domain ending in a dot), as Pigeonhole does
// when it picks the reply's To.
func parseAddresses(v string, validOnly bool) []mail.Address {
	var out []mail.Address
	for _, a := range mailaddr.ParseList(v, maxHeaderAddresses) {
		if !a.Complete() {
			continue
		}
		invalid := a.Invalid || strings.HasSuffix(a.Domain, ".") || strings.Contains(a.Domain, "..")
		if validOnly && invalid {
			continue
		}
		out = append(out, mail.Address{Name: sieve.DecodeWords(a.Name), Address: a.String()})
	}
	return out
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
