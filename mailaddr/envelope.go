package mailaddr

import "strings"

// Helpers for addresses as the envelope carries them (local@domain, the
// local part possibly quoted), the form every component passes around.

// TrimAngle strips white space and one pair of surrounding angle
// brackets: "<a@b>" and "a@b" are the same envelope address; "<>" is "".
func TrimAngle(s string) string {
	s = strings.TrimSpace(s)
	if len(s) >= 2 && s[0] == '<' && s[len(s)-1] == '>' {
		s = strings.TrimSpace(s[1 : len(s)-1])
	}
	return s
}

// Split splits addr at its last '@'; domain is "" when there is none.
func Split(addr string) (local, domain string) {
	if i := strings.LastIndexByte(addr, '@'); i >= 0 {
		return addr[:i], addr[i+1:]
	}
	return addr, ""
}

// UnquoteLocal returns the text of a local part written as a quoted
// string ("a b" -> a b); any other local part is returned as it is.
func UnquoteLocal(local string) string {
	if len(local) < 2 || local[0] != '"' || local[len(local)-1] != '"' {
		return local
	}
	var b strings.Builder
	for i := 1; i < len(local)-1; i++ {
		if local[i] == '\\' && i+1 < len(local)-1 {
			i++
		}
		b.WriteByte(local[i])
	}
	return b.String()
}

// Unquote writes an envelope address with a quoted local part
// ("a b"@example.org) as header parsing gives it (a b@example.org), so
// the two compare equal, as in Pigeonhole.
func Unquote(addr string) string {
	i := strings.LastIndexByte(addr, '@')
	if i < 0 {
		return addr
	}
	return UnquoteLocal(addr[:i]) + addr[i:]
}

// Quote writes addr, whose local part a parser may have unquoted (go-smtp
// hands `"a b"@x` over as `a b@x`), as the envelope carries it: the local
// part quoted unless it is a dot-atom, where UTF-8 counts as atext (RFC
// 6531: an SMTPUTF8 client's josé@x stays josé@x). "" and an address
// without '@' stay as they are.
func Quote(addr string) string {
	i := strings.LastIndexByte(addr, '@')
	if i < 0 {
		return addr
	}
	return QuoteLocal(addr[:i], true) + "@" + addr[i+1:]
}
