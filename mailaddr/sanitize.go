package mailaddr

import (
	"strings"
	"unicode/utf8"
)

// Sanitize shortens s to at most max bytes (ending in "..." when cut, never
// splitting a UTF-8 sequence) and replaces control characters with '?',
// like Dovecot's str_sanitize, for text quoted in error messages.
func Sanitize(s string, max int) string {
	var b strings.Builder
	cut := false
	for i, r := range s {
		if i+len(string(r)) > max {
			cut = true
			break
		}
		if r < 0x20 || r == 0x7f {
			b.WriteByte('?')
			continue
		}
		b.WriteRune(r)
	}
	if !cut {
		return b.String()
	}
	out := b.String()
	for len(out)+3 > max && len(out) > 0 {
		_, size := utf8.DecodeLastRuneInString(out)
		out = out[:len(out)-size]
	}
	return out + "..."
}
