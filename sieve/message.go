package sieve

import (
	"bytes"
	"io"
	"mime"
	"strings"

	"github.com/emersion/go-message/charset"
)

// Field is one header field of a message.
type Field struct {
	Name  string // as written
	Value string // raw value: folding kept, without the trailing line break
	// Added is set on fields inserted by editheader's addheader. Dovecot
	// hands their values to Pigeonhole's vacation checks with the space
	// after the colon still in front.
	Added bool
}

// Message is a parsed RFC 5322 message: its header fields in order and its
// body. A Message is never modified once built; editheader produces a new one.
type Message struct {
	Fields []Field
	Body   []byte // everything after the blank line ending the header
	// Size is the size in octets of the message as received.
	Size int
	// headerOnly is set when no empty line ends the header: such a
	// message has no body at all (RFC 5173 §5).
	headerOnly bool
}

// ParseMessage splits raw into header fields and body. It accepts CRLF and
// bare LF line ends and never fails: a line that is neither a field nor a
// continuation ends the header, as in Pigeonhole.
func ParseMessage(raw []byte) *Message {
	m := &Message{Size: len(raw), headerOnly: true}
	rest := raw
	for len(rest) > 0 {
		line, next := cutLine(rest)
		if len(trimRight(line, '\r', '\n')) == 0 {
			rest = next
			m.headerOnly = false
			break
		}
		if line[0] == ' ' || line[0] == '\t' {
			if len(m.Fields) > 0 {
				f := &m.Fields[len(m.Fields)-1]
				f.Value += "\r\n" + string(trimRight(line, '\r', '\n'))
				rest = next
				continue
			}
		}
		colon := bytes.IndexByte(line, ':')
		name := ""
		if colon > 0 {
			name = string(trimRight(line[:colon], ' ', '\t'))
		}
		if colon <= 0 || !validFieldName(name) {
			// Not a header field: the body starts here.
			m.headerOnly = false
			break
		}
		v := string(trimRight(line[colon+1:], '\r', '\n'))
		m.Fields = append(m.Fields, Field{Name: name, Value: v})
		rest = next
	}
	m.Body = rest
	return m
}

// trimRight cuts the bytes a and b off the end of line (bytes.TrimRight
// with a two-byte cutset, without building the set for every line).
func trimRight(line []byte, a, b byte) []byte {
	n := len(line)
	for n > 0 && (line[n-1] == a || line[n-1] == b) {
		n--
	}
	return line[:n]
}

func cutLine(b []byte) (line, rest []byte) {
	if i := bytes.IndexByte(b, '\n'); i >= 0 {
		return b[:i+1], b[i+1:]
	}
	return b, nil
}

func validFieldName(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c <= 32 || c >= 127 || c == ':' {
			return false
		}
	}
	return true
}

// Unfold removes folding line breaks from a raw header value and trims the
// surrounding white space. Like Dovecot, a tab that starts a continuation
// line becomes a space.
func Unfold(v string) string {
	if strings.ContainsAny(v, "\r\n") {
		v = strings.ReplaceAll(v, "\r\n", "\n")
		v = strings.ReplaceAll(v, "\r", "")
		v = strings.ReplaceAll(v, "\n\t", " ")
		v = strings.ReplaceAll(v, "\n", "")
	}
	return trimBlanks(v)
}

// trimBlanks cuts spaces and tabs off both ends of v (strings.Trim with
// " \t", without building the cutset's table on every call).
func trimBlanks(v string) string {
	i, j := 0, len(v)
	for i < j && (v[i] == ' ' || v[i] == '\t') {
		i++
	}
	for j > i && (v[j-1] == ' ' || v[j-1] == '\t') {
		j--
	}
	return v[i:j]
}

// Header returns the unfolded raw values of every field named name
// (ASCII case-insensitive: field names are ASCII), in order.
func (m *Message) Header(name string) []string {
	var out []string
	for _, f := range m.Fields {
		if len(f.Name) == len(name) && strings.EqualFold(f.Name, name) {
			out = append(out, Unfold(f.Value))
		}
	}
	return out
}

// HeaderDecoded is Header with RFC 2047 encoded words decoded to UTF-8.
func (m *Message) HeaderDecoded(name string) []string {
	vals := m.Header(name)
	for i, v := range vals {
		vals[i] = DecodeWords(v)
	}
	return vals
}

// Raw renders the message back to bytes with CRLF line ends in the header.
func (m *Message) Raw() []byte {
	var b bytes.Buffer
	for _, f := range m.Fields {
		b.WriteString(f.Name)
		b.WriteByte(':')
		b.WriteString(f.Value)
		b.WriteString("\r\n")
	}
	b.WriteString("\r\n")
	b.Write(m.Body)
	return b.Bytes()
}

// WithFields returns a copy of m with its header replaced by fields.
func (m *Message) WithFields(fields []Field) *Message {
	n := &Message{Fields: fields, Body: m.Body, headerOnly: m.headerOnly}
	size := len(m.Body) + 2
	for _, f := range fields {
		size += len(f.Name) + 1 + len(f.Value) + 2
	}
	n.Size = size
	return n
}

var wordDecoder = &mime.WordDecoder{CharsetReader: func(cs string, r io.Reader) (io.Reader, error) {
	return charset.Reader(cs, r)
}}

// DecodeWords decodes RFC 2047 encoded words in a header value; a value that
// does not decode is returned unchanged.
func DecodeWords(v string) string {
	if !strings.Contains(v, "=?") {
		return v
	}
	d, err := wordDecoder.DecodeHeader(v)
	if err != nil {
		return v
	}
	return d
}
