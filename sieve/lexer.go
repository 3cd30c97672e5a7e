package sieve

import (
	"fmt"
	"strings"

	"github.com/vacationd/vacationd/mailaddr"
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
	tokSlash   // a lone '/'
	tokColon   // a ':' not starting a tag
	tokGarbage // characters that start no token (already reported)
	tokError   // a malformed token (already reported)
)

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
	maxStringLen     = 1 << 20
)

// lexer splits a script into tokens the way Pigeonhole's scanner does:
// a malformed token is reported once and handed to the parser as tokError
// (or tokGarbage), so the parser can recover without repeating the error.
type lexer struct {
	src   string
	file  string
	off   int
	line  int
	col   int
	errf  func(Position, string, ...any)
	warnf func(Position, string, ...any)
	// prev is the kind of the previous token; a run of garbage characters
	// is reported once.
	prev tokenKind
}

func newLexer(file, src string, errf func(Position, string, ...any)) *lexer {
	return &lexer{src: src, file: file, line: 1, col: 1, errf: errf, prev: tokEOF}
}

func (l *lexer) pos() Position { return Position{File: l.file, Line: l.line, Col: l.col} }

// cur is the current byte, or -1 at the end of the script.
func (l *lexer) cur() int {
	if l.off < len(l.src) {
		return int(l.src[l.off])
	}
	return -1
}

func (l *lexer) shift() {
	if l.off >= len(l.src) {
		return
	}
	if l.src[l.off] == '\n' {
		l.line++
		l.col = 1
	} else {
		l.col++
	}
	l.off++
}

func (l *lexer) warn(format string, args ...any) {
	if l.warnf != nil {
		l.warnf(l.pos(), format, args...)
	}
}

func isAlpha(c byte) bool { return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' }
func isDigit(c byte) bool { return c >= '0' && c <= '9' }

// lexAlpha and lexDigit classify the lexer's current character (-1 at
// the end of the script).
func lexAlpha(c int) bool { return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' }
func lexDigit(c int) bool { return c >= '0' && c <= '9' }

// charName renders a character in an error message as Pigeonhole does.
func charName(c int) string {
	if c > 31 && c < 127 {
		return fmt.Sprintf("'%c'", c)
	}
	return fmt.Sprintf("0x%02x", c)
}

// next returns the next token, skipping white space and comments.
func (l *lexer) next() token {
	for {
		t, space := l.scan()
		if space {
			continue
		}
		l.prev = t.kind
		return t
	}
}

// scan reads one raw token; space is true for white space and comments.
func (l *lexer) scan() (t token, space bool) {
	p := l.pos()
	t.pos = p
	c := l.cur()
	switch c {
	case -1:
		t.kind = tokEOF
		return t, false
	case '#':
		l.shift()
		if !l.hashComment() {
			t.kind = tokError
			return t, false
		}
		return t, true
	case '/':
		l.shift()
		if l.cur() != '*' {
			t.kind = tokSlash
			return t, false
		}
		l.shift()
		for {
			switch l.cur() {
			case -1:
				l.errf(l.pos(), "end of file before end of bracket comment ('/* ... */') started at line %d", p.Line)
				t.kind = tokError
				return t, false
			case '*':
				l.shift()
				if l.cur() == '/' {
					l.shift()
					return t, true
				}
				if l.cur() == -1 {
					l.errf(l.pos(), "end of file before end of bracket comment ('/* ... */') started at line %d", p.Line)
					t.kind = tokError
					return t, false
				}
			case 0:
				l.errf(l.pos(), "encountered NUL character in bracket comment")
				t.kind = tokError
				return t, false
			default:
				l.shift()
			}
		}
	case ' ', '\t', '\r', '\n':
		for c := l.cur(); c == ' ' || c == '\t' || c == '\r' || c == '\n'; c = l.cur() {
			l.shift()
		}
		return t, true
	case '"':
		return l.quoted(p), false
	case '[', ']', '{', '}', '(', ')', ';', ',':
		l.shift()
		t.kind = map[int]tokenKind{'[': tokLBracket, ']': tokRBracket, '{': tokLBrace, '}': tokRBrace,
			'(': tokLParen, ')': tokRParen, ';': tokSemicolon, ',': tokComma}[c]
		return t, false
	}
	if lexDigit(c) {
		return l.number(p), false
	}
	if lexAlpha(c) || c == '_' || c == ':' {
		return l.identifier(p), false
	}
	if l.prev != tokGarbage {
		l.errf(p, "unexpected character(s) starting with %s", charName(c))
	}
	l.shift()
	t.kind = tokGarbage
	l.prev = tokGarbage
	return t, false
}

// hashComment skips a '#' comment; the '#' has been consumed.
func (l *lexer) hashComment() bool {
	for l.cur() != '\n' {
		switch l.cur() {
		case -1:
			l.warn("no newline (CRLF) at end of hash comment at end of file")
			return true
		case 0:
			l.errf(l.pos(), "encountered NUL character in hash comment")
			return false
		}
		l.shift()
	}
	l.shift()
	return true
}

func (l *lexer) number(p Position) token {
	start := l.off
	for lexDigit(l.cur()) {
		l.shift()
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
	if !overflow {
		var shift uint
		switch l.cur() {
		case 'k', 'K':
			shift = 10
		case 'm', 'M':
			shift = 20
		case 'g', 'G':
			shift = 30
		}
		if shift > 0 {
			l.shift()
			if n > (^uint64(0))>>shift {
				overflow = true
			}
			n <<= shift
		}
	}
	if overflow {
		l.errf(l.pos(), "number exceeds integer limits (max %d)", ^uint64(0))
		return token{kind: tokError, pos: p}
	}
	return token{kind: tokNumber, pos: p, num: n}
}

func (l *lexer) quoted(p Position) token {
	l.shift() // opening quote
	var b strings.Builder
	add := func(s string) {
		if b.Len() <= maxStringLen {
			b.WriteString(s)
		}
	}
	for l.cur() != '"' {
		if l.cur() == '\\' {
			l.shift()
		}
		switch c := l.cur(); c {
		case -1:
			l.errf(l.pos(), "end of file before end of quoted string started at line %d", p.Line)
			return token{kind: tokError, pos: p}
		case 0:
			l.errf(l.pos(), "encountered NUL character in quoted string started at line %d", p.Line)
			return token{kind: tokError, pos: p}
		case '\r':
			l.shift()
			if l.cur() != '\n' {
				l.errf(l.pos(), "found stray carriage-return (CR) character in quoted string started at line %d", p.Line)
				return token{kind: tokError, pos: p}
			}
			add("\r\n")
		case '\n':
			add("\r\n")
		default:
			if b.Len() <= maxStringLen {
				b.WriteByte(byte(c))
			}
		}
		l.shift()
	}
	l.shift()
	if b.Len() > maxStringLen {
		l.errf(l.pos(), "quoted string started at line %d is too long (longer than %d bytes)", p.Line, maxStringLen)
		return token{kind: tokError, pos: p}
	}
	return token{kind: tokString, pos: p, text: b.String()}
}

// identifier reads an identifier, a tag (starting with ':'), a lone ':'
// or a text: multi-line string.
func (l *lexer) identifier(p Position) token {
	kind := tokIdent
	var b strings.Builder
	if l.cur() == ':' {
		l.shift()
		kind = tokTag
		if !lexAlpha(l.cur()) && l.cur() != '_' {
			return token{kind: tokColon, pos: p}
		}
	}
	b.WriteByte(byte(l.cur()))
	l.shift()
	for c := l.cur(); lexAlpha(c) || lexDigit(c) || c == '_'; c = l.cur() {
		if b.Len() <= maxIdentifierLen {
			b.WriteByte(byte(c))
		}
		l.shift()
	}
	id := b.String()
	if kind == tokIdent && l.cur() == ':' && strings.EqualFold(id, "text") {
		l.shift()
		return l.multiline(p)
	}
	if len(id) > maxIdentifierLen {
		if kind == tokTag {
			l.errf(l.pos(), "encountered impossibly long tag identifier ':%s'", sanitize(id, maxIdentifierLen))
		} else {
			l.errf(l.pos(), "encountered impossibly long identifier '%s'", sanitize(id, maxIdentifierLen))
		}
		return token{kind: tokError, pos: p}
	}
	return token{kind: kind, pos: p, text: id}
}

// multiline reads a text: string; the "text:" has been consumed.
func (l *lexer) multiline(p Position) token {
	errTok := token{kind: tokError, pos: p}
	for l.cur() == ' ' || l.cur() == '\t' {
		l.shift()
	}
	if l.cur() == '\r' {
		l.shift()
	}
	switch c := l.cur(); c {
	case '#':
		l.shift()
		if !l.hashComment() {
			return errTok
		}
		if l.cur() == -1 {
			l.errf(l.pos(), "end of file before end of multi-line string")
			return errTok
		}
	case '\n':
		l.shift()
	case -1:
		l.errf(l.pos(), "end of file before end of multi-line string")
		return errTok
	default:
		l.errf(l.pos(), "invalid character %s after 'text:' in multiline string", charName(c))
		return errTok
	}
	var b strings.Builder
	for {
		if l.cur() == '.' {
			l.shift()
			crShifted := false
			if l.cur() == '\r' {
				l.shift()
				crShifted = true
			}
			if l.cur() == '\n' {
				l.shift()
				if b.Len() > maxStringLen {
					l.errf(l.pos(), "multi-line string started at line %d is too long (longer than %d bytes)", p.Line, maxStringLen)
					return errTok
				}
				return token{kind: tokString, pos: p, text: b.String(), multi: true}
			}
			if crShifted {
				if l.cur() != -1 {
					l.errf(l.pos(), "found stray carriage-return (CR) character in multi-line string started at line %d", p.Line)
				}
				return errTok
			}
			if b.Len() <= maxStringLen {
				b.WriteByte('.')
			}
			if l.cur() == '.' {
				l.shift()
			}
		}
		for l.cur() != '\n' && l.cur() != '\r' {
			switch c := l.cur(); c {
			case -1:
				l.errf(l.pos(), "end of file before end of multi-line string")
				return errTok
			case 0:
				l.errf(l.pos(), "encountered NUL character in quoted string started at line %d", p.Line)
				return errTok
			default:
				if b.Len() <= maxStringLen {
					b.WriteByte(byte(c))
				}
			}
			l.shift()
		}
		if l.cur() == '\r' {
			l.shift()
		}
		if l.cur() != '\n' {
			if l.cur() != -1 {
				l.errf(l.pos(), "found stray carriage-return (CR) character in multi-line string started at line %d", p.Line)
			}
			return errTok
		}
		if b.Len() <= maxStringLen {
			b.WriteString("\r\n")
		}
		l.shift()
	}
}

// sanitize shortens s to at most max bytes and replaces control
// characters, like Dovecot's str_sanitize (mailaddr.Sanitize).
func sanitize(s string, max int) string { return mailaddr.Sanitize(s, max) }

// describe names the token as Pigeonhole's parser errors do.
func (t token) describe() string {
	switch t.kind {
	case tokEOF:
		return "end of file"
	case tokIdent:
		return "identifier"
	case tokTag:
		return "tag"
	case tokNumber:
		return "number"
	case tokString:
		return "string"
	case tokLBracket:
		return "'['"
	case tokRBracket:
		return "']'"
	case tokLParen:
		return "'('"
	case tokRParen:
		return "')'"
	case tokLBrace:
		return "'{'"
	case tokRBrace:
		return "'}'"
	case tokComma:
		return "','"
	case tokSemicolon:
		return "';'"
	case tokSlash:
		return "'/'"
	case tokColon:
		return "':'"
	case tokGarbage:
		return "unknown characters"
	}
	return "error token (bug)"
}
