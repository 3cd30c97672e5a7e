package vacation

import (
	"strings"

	"github.com/emersion/go-message/mail"
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

// isSystemAddress reports the senders that never get a reply: MAILER-DAEMON,
// LISTSERV, majordomo, *-request* and owner-* local parts.
func isSystemAddress(addr string) bool {
	lp := localPart(addr)
	l := strings.ToLower(lp)
	return l == "mailer-daemon" || l == "listserv" || l == "majordomo" ||
		strings.Contains(lp, "-request") || strings.HasPrefix(lp, "owner-")
}

// parseMailbox parses one address as written in :from or :addresses:
// "Name <local@domain>" or "local@domain". ok is false unless it is a
// single address with a local part and a domain.
func parseMailbox(s string) (a mail.Address, ok bool) {
	if strings.ContainsAny(s, "\x00\r\n") {
		return a, false
	}
	p, err := mail.ParseAddress(s)
	if err != nil {
		return a, false
	}
	if localPart(p.Address) == "" || domainPart(p.Address) == "" {
		return a, false
	}
	return *p, true
}

// parseAddressList extracts the addresses of a header field value
// leniently, like Pigeonhole's parser: a strictly valid list is parsed with
// go-message (groups and encoded display names included); otherwise each
// comma-separated element that holds an address is kept and the rest is
// skipped. Addresses without a domain are dropped.
func parseAddressList(v string) []mail.Address {
	var out []mail.Address
	if l, err := mail.ParseAddressList(v); err == nil {
		for _, a := range l {
			if domainPart(a.Address) != "" && len(out) < maxHeaderAddresses {
				out = append(out, *a)
			}
		}
		return out
	}
	for _, part := range splitList(v) {
		if len(out) >= maxHeaderAddresses {
			break
		}
		part = strings.TrimSpace(part)
		// Drop a group's display name and terminator.
		if i := strings.IndexByte(part, ':'); i >= 0 && !strings.Contains(part[:i], "<") && !strings.Contains(part[:i], "@") {
			part = strings.TrimSpace(part[i+1:])
		}
		part = strings.TrimSpace(strings.TrimSuffix(part, ";"))
		if part == "" {
			continue
		}
		if a, err := mail.ParseAddress(part); err == nil {
			if domainPart(a.Address) != "" {
				out = append(out, *a)
			}
			continue
		}
		addr := part
		name := ""
		if i := strings.LastIndexByte(part, '<'); i >= 0 {
			if j := strings.IndexByte(part[i:], '>'); j > 0 {
				addr = part[i+1 : i+j]
				name = strings.Trim(strings.TrimSpace(part[:i]), `"`)
			}
		}
		addr = strings.TrimSpace(addr)
		if strings.ContainsAny(addr, " \t\"<>()") || localPart(addr) == "" || domainPart(addr) == "" {
			continue
		}
		out = append(out, mail.Address{Name: name, Address: addr})
	}
	return out
}

// splitList splits an address list at commas outside quoted strings,
// comments and angle brackets.
func splitList(v string) []string {
	var parts []string
	start, depth := 0, 0
	inQuote, inAngle := false, false
	for i := 0; i < len(v); i++ {
		switch c := v[i]; {
		case c == '\\' && (inQuote || depth > 0):
			i++
		case inQuote:
			if c == '"' {
				inQuote = false
			}
		case c == '"' && depth == 0:
			inQuote = true
		case c == '(':
			depth++
		case c == ')' && depth > 0:
			depth--
		case depth > 0:
		case c == '<':
			inAngle = true
		case c == '>':
			inAngle = false
		case c == ',' && !inAngle:
			parts = append(parts, v[start:i])
			start = i + 1
		}
	}
	return append(parts, v[start:])
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
