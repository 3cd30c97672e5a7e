package sieve

import (
	"bytes"
	"encoding/base64"
	"io"
	"mime"
	"strings"
	"unicode/utf8"

	"github.com/emersion/go-message/charset"
)

// mimePart is one item the body test's :content and :text transforms look
// at, in the order Pigeonhole produces them: every MIME part depth first;
// a multipart part holds its prologue, followed by its children and then by
// an epilogue item; a message/rfc822 part holds the header of the enclosed
// message, followed by that message's parts.
type mimePart struct {
	// ctype is "type/subtype" as written, "" when the Content-Type field
	// is invalid; "text/plain" when there is none.
	ctype string
	// hasBody is false for a part whose header is not followed by an
	// empty line: such a part matches nothing (RFC 5173 §5).
	hasBody bool
	// content is the part's body with the transfer encoding removed and
	// converted to UTF-8.
	content  string
	epilogue bool
	// fields is the part's header (the message header for the first
	// part); nil for an epilogue.
	fields []Field
	// next is the index of the part's next sibling, 0 when it has none;
	// children is set when parts below it follow it in the list. As in
	// Pigeonhole, foreverypart and :anychild take a part's descendants
	// to run up to its next sibling, or to the end of the list.
	next     int
	children bool
}

// subtreeEnd is the index just past what foreverypart and :anychild take
// as the descendants of parts[i]: up to its next sibling or, for a last
// child, to the end of the list (Pigeonhole's sieve_message_part_iter).
func subtreeEnd(parts []*mimePart, i int) int {
	if n := parts[i].next; n > i {
		return n
	}
	return len(parts)
}

// maxMIMEDepth bounds the nesting of multiparts and enclosed messages
// that is descended into; deeper parts are taken as opaque content.
const maxMIMEDepth = 32

// parseMIMEParts lists the parts of m for the body test. It never fails:
// broken structure is read the way Dovecot's message parser reads it, as
// far as that matters to the body test.
func parseMIMEParts(m *Message) []*mimePart {
	var parts []*mimePart
	mimeEntity(&parts, m.Fields, m.Body, !m.headerOnly, false, 0)
	return parts
}

func firstField(fields []Field, name string) (string, bool) {
	for _, f := range fields {
		if strings.EqualFold(f.Name, name) {
			return Unfold(f.Value), true
		}
	}
	return "", false
}

// mimeEntity adds the parts of one entity. inDigest is set for the parts
// of a multipart/digest, which enclose a message when they have no
// Content-Type (RFC 2046 §5.1.5); such a part is listed as text/plain with
// no content of its own, as Dovecot does.
func mimeEntity(parts *[]*mimePart, fields []Field, body []byte, hasBody, inDigest bool, depth int) {
	ctype, params := "text/plain", map[string]string(nil)
	v, hasType := firstField(fields, "Content-Type")
	if hasType {
		ctype, params = parseContentType(v)
	}
	p := &mimePart{ctype: ctype, hasBody: hasBody, fields: fields}
	*parts = append(*parts, p)
	main, _, _ := strings.Cut(ctype, "/")
	switch {
	case depth >= maxMIMEDepth:
		p.content = toValidUTF8(body)
	case strings.EqualFold(main, "multipart") && params["boundary"] != "":
		pre, children, epi, hasEpi := splitMultipart(body, params["boundary"])
		p.content = toValidUTF8(pre)
		digest := strings.EqualFold(ctype, "multipart/digest")
		p.children = len(children) > 0
		prev := -1
		for _, c := range children {
			if prev >= 0 {
				(*parts)[prev].next = len(*parts)
			}
			prev = len(*parts)
			hdr, cbody, cHasBody := splitHeader(c)
			mimeEntity(parts, ParseMessage(hdr).Fields, cbody, cHasBody, digest, depth+1)
		}
		if hasEpi {
			*parts = append(*parts, &mimePart{ctype: ctype, hasBody: true, content: toValidUTF8(epi), epilogue: true})
		}
	case inDigest && !hasType:
		p.children = true
		hdr, mbody, mHasBody := splitHeader(body)
		mimeEntity(parts, ParseMessage(hdr).Fields, mbody, mHasBody, false, depth+1)
	case strings.EqualFold(ctype, "message/rfc822"):
		hdr, mbody, mHasBody := splitHeader(body)
		p.content = toValidUTF8(crlfLines(hdr))
		p.children = true
		mimeEntity(parts, ParseMessage(hdr).Fields, mbody, mHasBody, false, depth+1)
	default:
		cte, _ := firstField(fields, "Content-Transfer-Encoding")
		p.content = decodeBody(body, cte, params["charset"])
	}
}

// parseContentType returns the "type/subtype" of a Content-Type value ("" if
// it is not a valid one) and its parameters (names lower case).
func parseContentType(v string) (string, map[string]string) {
	typ, rest, _ := strings.Cut(v, ";")
	typ = strings.TrimSpace(typ)
	main, sub, ok := strings.Cut(typ, "/")
	sub = strings.TrimLeft(sub, " \t")
	if !ok || !isMIMEToken(main) || !isMIMEToken(sub) {
		typ = ""
	} else {
		typ = main + "/" + sub
	}
	if _, params, err := mime.ParseMediaType(v); err == nil {
		return typ, params
	}
	// Lenient parameter parsing for values mime rejects.
	params := map[string]string{}
	for _, kv := range strings.Split(rest, ";") {
		k, val, ok := strings.Cut(kv, "=")
		if !ok {
			continue
		}
		val = strings.TrimSpace(val)
		if len(val) >= 2 && val[0] == '"' && val[len(val)-1] == '"' {
			val = val[1 : len(val)-1]
		}
		params[strings.ToLower(strings.TrimSpace(k))] = val
	}
	return typ, params
}

func isMIMEToken(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c <= ' ' || c >= 0x7f || strings.IndexByte(`()<>@,;:\"/[]?=`, c) >= 0 {
			return false
		}
	}
	return true
}

// splitHeader separates an entity's header from its body at the first
// empty line; hasBody is false when there is no empty line.
func splitHeader(b []byte) (hdr, body []byte, hasBody bool) {
	pos := 0
	for pos < len(b) {
		line, _ := cutLine(b[pos:])
		if len(bytes.TrimRight(line, "\r\n")) == 0 && (len(line) > 0 && line[len(line)-1] == '\n') {
			return b[:pos], b[pos+len(line):], true
		}
		pos += len(line)
	}
	return b, nil, false
}

// splitMultipart cuts a multipart body at its boundary delimiter lines
// (RFC 2046 §5.1.1). The line break before a delimiter belongs to the
// delimiter. Without a close delimiter the last part runs to the end and
// there is no epilogue.
func splitMultipart(body []byte, boundary string) (pre []byte, parts [][]byte, epi []byte, hasEpi bool) {
	delim := []byte("--" + boundary)
	start := -1 // start of the current part; -1 while in the prologue
	pos := 0
	for pos < len(body) {
		line, _ := cutLine(body[pos:])
		next := pos + len(line)
		content := bytes.TrimRight(line, "\r\n")
		if bytes.HasPrefix(content, delim) {
			rest := content[len(delim):]
			closing := bytes.HasPrefix(rest, []byte("--"))
			if closing || len(bytes.Trim(rest, " \t")) == 0 {
				end := trimLineBreak(body, pos)
				if start < 0 {
					pre = body[:end]
				} else {
					parts = append(parts, body[start:max(start, end)])
				}
				if closing {
					return pre, parts, body[next:], next < len(body)
				}
				start = next
			}
		}
		pos = next
	}
	if start < 0 {
		return body, nil, nil, false
	}
	return pre, append(parts, body[start:]), nil, false
}

// trimLineBreak returns the offset of the line break that ends just before
// pos (pos itself when there is none).
func trimLineBreak(b []byte, pos int) int {
	if pos > 0 && b[pos-1] == '\n' {
		pos--
		if pos > 0 && b[pos-1] == '\r' {
			pos--
		}
	}
	return pos
}

// crlfLines returns a header block with every line ending in CRLF.
func crlfLines(hdr []byte) []byte {
	var out bytes.Buffer
	for len(hdr) > 0 {
		line, rest := cutLine(hdr)
		out.Write(bytes.TrimRight(line, "\r\n"))
		out.WriteString("\r\n")
		hdr = rest
	}
	return out.Bytes()
}

// decodeBody removes the content transfer encoding and converts to UTF-8.
// A body in an unknown transfer encoding is skipped, as Dovecot does.
func decodeBody(body []byte, cte, cs string) string {
	cte, _, _ = strings.Cut(cte, ";")
	switch strings.ToLower(strings.TrimSpace(cte)) {
	case "", "7bit", "8bit", "binary":
	case "quoted-printable":
		body = decodeQP(body)
	case "base64":
		body = decodeBase64(body)
	default:
		return ""
	}
	return toUTF8(body, cs)
}

// toUTF8 converts text in charset cs to valid UTF-8; an unknown charset is
// read as UTF-8. Invalid sequences become U+FFFD.
func toUTF8(b []byte, cs string) string {
	switch strings.ToLower(cs) {
	case "", "utf-8", "utf8", "us-ascii", "ascii":
	default:
		if rd, err := charset.Reader(cs, bytes.NewReader(b)); err == nil {
			if out, err := io.ReadAll(rd); err == nil {
				b = out
			}
		}
	}
	return toValidUTF8(b)
}

func toValidUTF8(b []byte) string {
	if utf8.Valid(b) {
		return string(b)
	}
	return string(bytes.ToValidUTF8(b, []byte("\uFFFD")))
}

// decodeQP decodes quoted-printable leniently: soft line breaks are
// removed, "=XX" becomes the octet, and a malformed "=" is kept.
func decodeQP(b []byte) []byte {
	out := make([]byte, 0, len(b))
	for len(b) > 0 {
		line, rest := cutLine(b)
		eol := ""
		content := line
		if bytes.HasSuffix(content, []byte("\r\n")) {
			content, eol = content[:len(content)-2], "\r\n"
		} else if bytes.HasSuffix(content, []byte("\n")) {
			content, eol = content[:len(content)-1], "\n"
		}
		content = bytes.TrimRight(content, " \t")
		soft := false
		for i := 0; i < len(content); i++ {
			c := content[i]
			if c != '=' {
				out = append(out, c)
				continue
			}
			if i == len(content)-1 {
				soft = true
				break
			}
			if i+2 < len(content) {
				hi, okHi := unhex(content[i+1])
				lo, okLo := unhex(content[i+2])
				if okHi && okLo {
					out = append(out, hi<<4|lo)
					i += 2
					continue
				}
			}
			out = append(out, c)
		}
		if !soft {
			out = append(out, eol...)
		}
		b = rest
	}
	return out
}

func unhex(c byte) (byte, bool) {
	switch {
	case '0' <= c && c <= '9':
		return c - '0', true
	case 'a' <= c && c <= 'f':
		return c - 'a' + 10, true
	case 'A' <= c && c <= 'F':
		return c - 'A' + 10, true
	}
	return 0, false
}

// decodeBase64 decodes base64 as Dovecot's message decoder does: spaces,
// tabs and line ends are skipped, and decoding stops at the padding or at
// the first other character outside the alphabet, keeping what came
// before it (so a corrupt part reads as empty or cut short, not as bytes
// decoded from the garbage after the damage).
func decodeBase64(b []byte) []byte {
	clean := make([]byte, 0, len(b))
loop:
	for _, c := range b {
		switch {
		case 'A' <= c && c <= 'Z' || 'a' <= c && c <= 'z' || '0' <= c && c <= '9' || c == '+' || c == '/':
			clean = append(clean, c)
		case c == ' ' || c == '\t' || c == '\r' || c == '\n':
		default: // '=' or damage
			break loop
		}
	}
	if len(clean)%4 == 1 {
		clean = clean[:len(clean)-1]
	}
	out := make([]byte, base64.RawStdEncoding.DecodedLen(len(clean)))
	n, _ := base64.RawStdEncoding.Decode(out, clean)
	return out[:n]
}
