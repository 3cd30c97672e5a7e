package sieve

import (
	"fmt"
	"strings"
)

// tokenKind is the kind of a lexical token (RFC 5228 §8.1).
type tokenKind int

const (
	tokEOF tokenKind = iota
	tokIdent
	tokTag
	tokNumber
	tokString // quoted or multi-line; the value is decoded
	tokLBracket
	tokRBracket
	tokLParen
	tokRParen
	tokLBrace
	tokRBrace
	tokComma
	tokSemicolon
	tokError
)

var tokenNames = [...]string{
	tokEOF: "end of script", tokIdent: "identifier", tokTag: "tag", tokNumber: "number",
	tokString: "string", tokLBracket: "'['", tokRBracket: "']'", tokLParen: "'('",
	tokRParen: "')'", tokLBrace: "'{'", tokRBrace: "'}'", tokComma: "','",
	tokSemicolon: "';'", tokError: "invalid token",
}

func (k tokenKind) String() string { return tokenNames[k] }

type token struct {
	kind  tokenKind
	pos   Position
	text  string // identifier or tag name (without ':'), decoded string
	num   uint64
	multi bool // string came from text:
}

// Limits the lexer enforces, as in Pigeonhole.
const (
	maxIdentifierLen = 32
)

// lexer splits a script into tokens; errors are reported through errf and
// lexing continues, so one run finds every lexical error.
type lexer struct {
	src  string
	file string
	off  int
	line int
	col  int
	errf func(Position, string, ...any)
}

func newLexer(file, src string, errf func(Position, string, ...any)) *lexer {
	return &lexer{src: src, file: file, line: 1, col: 1, errf: errf}
}

func (l *lexer) pos() Position { return Position{File: l.file, Line: l.line, Col: l.col} }

func (l *lexer) peekByte(n int) byte {
	if l.off+n < len(l.src) {
		return l.src[l.off+n]
	}
	return 0
}

func (l *lexer) advance() byte {
	c := l.src[l.off]
	l.off++
	if c == '\n' {
		l.line++
		l.col = 1
	} else {
		l.col++
	}
	return c
}

// skipSpace skips white space and comments.
func (l *lexer) skipSpace() {
	for l.off < len(l.src) {
		c := l.src[l.off]
		switch {
		case c == ' ' || c == '\t' || c == '\r' || c == '\n':
			l.advance()
		case c == '#':
			for l.off < len(l.src) && l.src[l.off] != '\n' {
				l.advance()
			}
		case c == '/' && l.peekByte(1) == '*':
			start := l.pos()
			l.advance()
			l.advance()
			closed := false
			for l.off < len(l.src) {
				if l.src[l.off] == '*' && l.peekByte(1) == '/' {
					l.advance()
					l.advance()
					closed = true
					break
				}
				l.advance()
			}
			if !closed {
				l.errf(start, "end of file before end of bracket comment ('/* ... */') started at line %d", start.Line)
			}
		default:
			return
		}
	}
}

func isAlpha(c byte) bool { return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' }
func isDigit(c byte) bool { return c >= '0' && c <= '9' }

func (l *lexer) next() token {
	l.skipSpace()
	p := l.pos()
	if l.off >= len(l.src) {
		return token{kind: tokEOF, pos: p}
	}
	c := l.src[l.off]
	switch c {
	case '[':
		l.advance()
		return token{kind: tokLBracket, pos: p}
	case ']':
		l.advance()
		return token{kind: tokRBracket, pos: p}
	case '(':
		l.advance()
		return token{kind: tokLParen, pos: p}
	case ')':
		l.advance()
		return token{kind: tokRParen, pos: p}
	case '{':
		l.advance()
		return token{kind: tokLBrace, pos: p}
	case '}':
		l.advance()
		return token{kind: tokRBrace, pos: p}
	case ',':
		l.advance()
		return token{kind: tokComma, pos: p}
	case ';':
		l.advance()
		return token{kind: tokSemicolon, pos: p}
	case '"':
		return l.quoted(p)
	case ':':
		l.advance()
		if l.off < len(l.src) && (isAlpha(l.src[l.off]) || l.src[l.off] == '_') {
			id := l.ident()
			if len(id) > maxIdentifierLen {
				l.errf(p, "tag identifier ':%s...' is too long", id[:maxIdentifierLen])
			}
			return token{kind: tokTag, pos: p, text: id}
		}
		l.errf(p, "unexpected character(s) starting with ':'")
		return token{kind: tokError, pos: p}
	}
	if isDigit(c) {
		return l.number(p)
	}
	if isAlpha(c) || c == '_' {
		id := l.ident()
		if id == "text" && l.peekByte(0) == ':' {
			l.advance()
			return l.multiline(p)
		}
		if len(id) > maxIdentifierLen {
			l.errf(p, "identifier '%s...' is too long", id[:maxIdentifierLen])
		}
		return token{kind: tokIdent, pos: p, text: id}
	}
	l.advance()
	if c >= 0x20 && c < 0x7f {
		l.errf(p, "unexpected character '%c'", c)
	} else {
		l.errf(p, "unexpected character 0x%02x", c)
	}
	return token{kind: tokError, pos: p}
}

func (l *lexer) ident() string {
	start := l.off
	for l.off < len(l.src) {
		c := l.src[l.off]
		if !isAlpha(c) && !isDigit(c) && c != '_' {
			break
		}
		l.advance()
	}
	return l.src[start:l.off]
}

func (l *lexer) number(p Position) token {
	start := l.off
	for l.off < len(l.src) && isDigit(l.src[l.off]) {
		l.advance()
	}
	digits := l.src[start:l.off]
	var n uint64
	overflow := false
	for i := 0; i < len(digits); i++ {
		d := uint64(digits[i] - '0')
		if n > (^uint64(0)-d)/10 {
			overflow = true
			break
		}
		n = n*10 + d
	}
	var shift uint
	switch l.peekByte(0) {
	case 'k', 'K':
		shift = 10
	case 'm', 'M':
		shift = 20
	case 'g', 'G':
		shift = 30
	}
	if shift > 0 {
		l.advance()
		if !overflow && n > (^uint64(0))>>shift {
			overflow = true
		}
		n <<= shift
	}
	if overflow {
		l.errf(p, "number is too large (exceeds %d)", ^uint64(0))
		n = 0
	}
	return token{kind: tokNumber, pos: p, num: n}
}

func (l *lexer) quoted(p Position) token {
	l.advance() // opening quote
	var b strings.Builder
	for {
		if l.off >= len(l.src) {
			l.errf(p, "end of file before end of quoted string")
			return token{kind: tokString, pos: p, text: b.String()}
		}
		c := l.advance()
		switch c {
		case '"':
			return token{kind: tokString, pos: p, text: b.String()}
		case '\\':
			if l.off < len(l.src) {
				b.WriteByte(l.advance())
			}
		case '\r':
			// CRLF inside quoted strings is kept as is; a bare CR too.
			b.WriteByte(c)
		default:
			b.WriteByte(c)
		}
	}
}

// multiline reads a text: string; the "text:" has been consumed.
func (l *lexer) multiline(p Position) token {
	// Rest of the line: white space and an optional hash comment.
	for l.off < len(l.src) && (l.src[l.off] == ' ' || l.src[l.off] == '\t') {
		l.advance()
	}
	if l.off < len(l.src) && l.src[l.off] == '#' {
		for l.off < len(l.src) && l.src[l.off] != '\n' {
			l.advance()
		}
	}
	if l.off < len(l.src) && l.src[l.off] == '\r' {
		l.advance()
	}
	if l.off >= len(l.src) || l.src[l.off] != '\n' {
		l.errf(p, "invalid character(s) after 'text:' (only white space and a comment may follow it on the same line)")
		for l.off < len(l.src) && l.src[l.off] != '\n' {
			l.advance()
		}
		if l.off >= len(l.src) {
			return token{kind: tokString, pos: p, multi: true}
		}
	}
	l.advance() // newline
	var b strings.Builder
	for {
		if l.off >= len(l.src) {
			l.errf(p, "end of file before end of multi-line string")
			return token{kind: tokString, pos: p, text: b.String(), multi: true}
		}
		end := strings.IndexByte(l.src[l.off:], '\n')
		var line string
		if end < 0 {
			line = l.src[l.off:]
		} else {
			line = l.src[l.off : l.off+end+1]
		}
		body := strings.TrimRight(line, "\r\n")
		if body == "." && end >= 0 {
			for range len(line) {
				l.advance()
			}
			return token{kind: tokString, pos: p, text: b.String(), multi: true}
		}
		if body == "." && end < 0 {
			for range len(line) {
				l.advance()
			}
			l.errf(p, "end of file before end of multi-line string")
			return token{kind: tokString, pos: p, text: b.String(), multi: true}
		}
		for range len(line) {
			l.advance()
		}
		if strings.HasPrefix(line, ".") {
			line = line[1:]
		}
		// Normalize line ends to CRLF as Pigeonhole does.
		if strings.HasSuffix(line, "\n") {
			line = strings.TrimRight(line, "\r\n") + "\r\n"
		}
		b.WriteString(line)
	}
}

func (t token) describe() string {
	switch t.kind {
	case tokIdent:
		return fmt.Sprintf("identifier '%s'", t.text)
	case tokTag:
		return fmt.Sprintf("tag ':%s'", t.text)
	case tokNumber:
		return "number"
	case tokString:
		return "string"
	}
	return t.kind.String()
}
