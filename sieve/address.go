package sieve

import (
	"strings"

	"github.com/vacationd/vacationd/mailaddr"
)

// mailAddress is one address found in a header field or the envelope;
// package mailaddr parses every syntax of them.
type mailAddress struct {
	local  string
	domain string // "" when the address has no domain
}

func fromAddr(a mailaddr.Address) mailAddress { return mailAddress{local: a.Local, domain: a.Domain} }

func (a mailAddress) String() string {
	if a.domain == "" {
		return a.local
	}
	return a.local + "@" + a.domain
}

// smtpString renders an address for the SMTP envelope: the local part is
// quoted unless it is a dot-atom.
func (a mailAddress) smtpString() string {
	return mailaddr.Address{Local: a.local, Domain: a.domain}.SMTP()
}

// maxHeaderAddresses bounds the elements read from one header field, as
// Pigeonhole does.
const maxHeaderAddresses = 256

// parseAddressList returns the valid addresses of a header value (as
// Dovecot's parser reads them, see mailaddr.ParseList) and whether the
// whole value parsed: invalid elements are left out and make ok false.
func parseAddressList(v string) ([]mailAddress, bool) {
	var out []mailAddress
	ok := true
	for _, a := range mailaddr.ParseList(v, maxHeaderAddresses) {
		if a.Invalid {
			ok = false
			continue
		}
		if a.Kind == mailaddr.Mailbox {
			out = append(out, fromAddr(a))
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

// parseSieveAddress parses a single Sieve address (mailaddr.ParseMailbox);
// err explains why it is invalid. The domain is lower-cased.
func parseSieveAddress(s string) (mailAddress, string) {
	a, err := mailaddr.ParseMailbox(s)
	if err != nil {
		return mailAddress{}, err.Error()
	}
	return fromAddr(a), ""
}

// ParseAddress parses one address written as redirect's target and
// vacation's :from and :addresses are (Pigeonhole's sieve address): an
// addr-spec, or an optional phrase and an addr-spec in angle brackets.
// It returns local@domain, the local part unquoted and the domain
// lower-cased, or an error saying why s is no such address.
func ParseAddress(s string) (string, error) {
	a, err := mailaddr.ParseMailbox(s)
	if err != nil {
		return "", err
	}
	return a.Local + "@" + a.Domain, nil
}

// parseSMTPPath parses an SMTP envelope path (mailaddr.ParsePath).
func parseSMTPPath(s string) (a mailAddress, null, ok bool) {
	ma, null, ok := mailaddr.ParsePath(s)
	return fromAddr(ma), null, ok
}

// NormalizePath parses an SMTP envelope path and returns it as the
// envelope carries it (mailaddr.NormalizePath).
func NormalizePath(s string) (path string, ok bool) { return mailaddr.NormalizePath(s) }

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

// FirstAddress returns the address of the first of the named header
// fields whose first occurrence starts with one, as Pigeonhole's
// sieve-test and testsuite derive the envelope from the message: the
// first element of the field's address list (read as Dovecot reads it,
// syntax errors tolerated) must have a local part and a domain.
func (m *Message) FirstAddress(names ...string) (string, bool) {
	for _, name := range names {
		vals := m.Header(name)
		if len(vals) == 0 {
			continue
		}
		if as := mailaddr.ParseList(vals[0], 1); len(as) > 0 && as[0].Complete() {
			return as[0].String(), true
		}
	}
	return "", false
}
