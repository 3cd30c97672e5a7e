package sieve

import (
	"mime"
	"strings"
)

// maxHeaderLine is the line length addheader folds values at, as
// Pigeonhole does.
const maxHeaderLine = 80

// encodeHeaderValue encodes the 8-bit and control characters of an
// addheader value as RFC 2047 encoded words (UTF-8). On each line the span
// from the first to the last word needing it is encoded, Q or B whichever
// is shorter; ASCII text is left alone.
func encodeHeaderValue(v string) string {
	if !strings.ContainsFunc(v, func(r rune) bool { return r >= 0x80 || r < 0x20 && r != '\t' && r != '\r' && r != '\n' || r == 0x7f }) {
		return v
	}
	lines := strings.Split(strings.ReplaceAll(v, "\r", ""), "\n")
	for i, ln := range lines {
		lines[i] = encodeHeaderLine(ln)
	}
	return strings.Join(lines, "\r\n")
}

func headerByteNeedsEncoding(c byte) bool {
	return c >= 0x80 || c < 0x20 && c != '\t' || c == 0x7f
}

func encodeHeaderLine(s string) string {
	first, last := -1, -1
	for i := 0; i < len(s); i++ {
		if headerByteNeedsEncoding(s[i]) {
			if first < 0 {
				first = i
			}
			last = i
		}
	}
	if first < 0 {
		return s
	}
	// Widen to whole words.
	for first > 0 && s[first-1] != ' ' && s[first-1] != '\t' {
		first--
	}
	for last+1 < len(s) && s[last+1] != ' ' && s[last+1] != '\t' {
		last++
	}
	span := s[first : last+1]
	escape := 0
	for i := 0; i < len(span); i++ {
		c := span[i]
		if headerByteNeedsEncoding(c) || c == '=' || c == '?' || c == '_' {
			escape++
		}
	}
	enc := mime.QEncoding
	if escape*2 > len(span) {
		enc = mime.BEncoding
	}
	return s[:first] + enc.Encode("utf-8", span) + s[last+1:]
}

// foldHeaderValue folds a header value so that lines stay within
// maxHeaderLine where white space allows, given the length of the field
// name in front of it. Existing line breaks (with the white space around
// them) become a single fold; each fold is CRLF followed by one space, so
// that unfolding gives back the words separated by one space.
func foldHeaderValue(nameLen int, v string) string {
	var segs []string
	for i, seg := range strings.Split(strings.ReplaceAll(v, "\r", ""), "\n") {
		seg = strings.TrimRight(seg, " \t")
		if i > 0 {
			seg = strings.TrimLeft(seg, " \t")
		}
		if seg != "" {
			segs = append(segs, seg)
		}
	}
	var b strings.Builder
	lineLen := nameLen + 2
	for k, seg := range segs {
		if k > 0 {
			b.WriteString("\r\n ")
			lineLen = 1
		}
		for {
			if lineLen+len(seg) <= maxHeaderLine {
				b.WriteString(seg)
				lineLen += len(seg)
				break
			}
			cut := foldPoint(seg, maxHeaderLine-lineLen)
			if cut < 0 {
				b.WriteString(seg)
				lineLen += len(seg)
				break
			}
			b.WriteString(seg[:cut])
			seg = strings.TrimLeft(seg[cut:], " \t")
			if seg == "" {
				break
			}
			b.WriteString("\r\n ")
			lineLen = 1
		}
	}
	return b.String()
}

// foldPoint returns where to fold s: the start of the last white space run
// that begins within limit bytes, else the first one; -1 when s has no
// white space after its first word.
func foldPoint(s string, limit int) int {
	cut := -1
	for j := 1; j < len(s); j++ {
		if (s[j] == ' ' || s[j] == '\t') && s[j-1] != ' ' && s[j-1] != '\t' {
			if j > limit && cut >= 0 {
				break
			}
			cut = j
			if j > limit {
				break
			}
		}
	}
	return cut
}
