package sieve

import (
	"html"
	"strings"
)

// htmlToText reduces HTML to its text for the body test's :text transform,
// the way Dovecot's html2text does: markup is dropped (each tag leaves one
// space), comments, scripts and style sheets are skipped, CDATA is kept and
// character references are decoded.
func htmlToText(s string) string {
	var b strings.Builder
	space := func() {
		if b.Len() > 0 && !strings.HasSuffix(b.String(), " ") {
			b.WriteByte(' ')
		}
	}
	for i := 0; i < len(s); {
		c := s[i]
		switch c {
		case '<':
			rest := s[i+1:]
			switch {
			case strings.HasPrefix(rest, "!--"):
				end := strings.Index(rest[3:], "-->")
				if end < 0 {
					return b.String()
				}
				i += 1 + 3 + end + 3
				continue
			case hasTagName(rest, "script"), hasTagName(rest, "style"):
				name := "script"
				if hasTagName(rest, "style") {
					name = "style"
				}
				end := indexFold(rest, "</"+name+">")
				if end < 0 {
					return b.String()
				}
				space()
				i += 1 + end + len(name) + 3
				continue
			case len(rest) >= 8 && strings.EqualFold(rest[:8], "![CDATA["):
				end := strings.Index(rest[8:], "]]>")
				if end < 0 {
					b.WriteString(rest[8:])
					return b.String()
				}
				b.WriteString(rest[8 : 8+end])
				i += 1 + 8 + end + 3
				continue
			}
			end := tagEnd(rest)
			if end < 0 {
				return b.String()
			}
			space()
			i += 1 + end + 1
		case '&':
			end := strings.IndexByte(s[i+1:], ';')
			if end < 0 || end > 9 || strings.ContainsAny(s[i+1:i+1+end], " \t\r\n") {
				// A broken reference is dropped along with its '&'.
				i++
				continue
			}
			ent := s[i : i+1+end+1]
			if dec := html.UnescapeString(ent); dec != ent {
				b.WriteString(dec)
			}
			i += len(ent)
		default:
			b.WriteByte(c)
			i++
		}
	}
	return b.String()
}

// hasTagName reports whether s (the text after '<') opens tag name.
func hasTagName(s, name string) bool {
	if len(s) <= len(name) || !strings.EqualFold(s[:len(name)], name) {
		return false
	}
	switch s[len(name)] {
	case ' ', '\t', '\r', '\n', '>':
		return true
	}
	return false
}

// tagEnd finds the '>' closing a tag, skipping quoted attribute values.
func tagEnd(s string) int {
	var quote byte
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case quote != 0 && c == '\\':
			i++
		case quote != 0 && c == quote:
			quote = 0
		case quote != 0:
		case c == '"' || c == '\'':
			quote = c
		case c == '>':
			return i
		}
	}
	return -1
}

// indexFold is strings.Index with ASCII case folding.
func indexFold(s, sub string) int {
	for i := 0; i+len(sub) <= len(s); i++ {
		if strings.EqualFold(s[i:i+len(sub)], sub) {
			return i
		}
	}
	return -1
}
