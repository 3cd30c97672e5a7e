package managesieve

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"math"
	"strconv"
	"strings"
	"unicode/utf8"
)

// argKind tells how an argument was written.
type argKind int

const (
	argAtom    argKind = iota // a bare word: a command name or a number
	argString                 // a quoted string or a literal
	argLiteral                // a literal (argString's second form), kept apart for limits
)

// arg is one command argument.
type arg struct {
	kind argKind
	s    string
}

func (a arg) isString() bool { return a.kind == argString || a.kind == argLiteral }

// Errors of the command reader. A protocolError is answered with NO and
// the session goes on (the rest of the line was skipped); errTooLong and
// I/O errors end the session.
type protocolError struct{ msg string }

func (e *protocolError) Error() string { return e.msg }

// literalTooLarge is answered NO (QUOTA/MAXSIZE); the literal's bytes and
// the rest of the line were read and dropped.
type literalTooLarge struct{ max int64 }

func (e *literalTooLarge) Error() string {
	return fmt.Sprintf("Script is too large (max %d bytes).", e.max)
}

var errTooLong = errors.New("Input buffer full, aborting")

// reader reads commands: an atom, then arguments separated by single
// spaces, then CRLF (a bare LF is accepted, as Dovecot does). Strings are
// quoted ("a \"b\"", escapes \" and \\ only) or literals, {n+} (RFC
// 5804's) or {n} (synchronising, which ManageSieve has no continuation
// for; the client simply sends the bytes).
type reader struct {
	br *bufio.Reader
	// maxLine bounds a line without its literals; maxLiteral one literal
	// (a larger one is read and dropped up to maxDiscard, else the
	// session ends).
	maxLine, maxLiteral, maxDiscard int64
	n                               int64 // bytes of the current line
	lits                            int64 // literal bytes of the current line
}

func (r *reader) byte() (byte, error) {
	b, err := r.br.ReadByte()
	if err != nil {
		return 0, err
	}
	r.n++
	if r.n > r.maxLine {
		return 0, errTooLong
	}
	return b, nil
}

// skipLine drops the rest of the current line with the literals it
// announces: a line that ends in {n+} or {n} goes on after n octets, which
// the client sends without waiting for a reply (RFC 5804 section 4 for
// {n+}; ManageSieve has no continuation for {n}) and which are no
// commands: a refused PUTSCRIPT's script would be read line by line as
// commands. A literal larger than maxDiscard ends the session.
func (r *reader) skipLine() error {
	var tail []byte // a literal's size being read: '{', digits, ...
	for {
		b, err := r.byte()
		if err != nil {
			return err
		}
		switch {
		case b == '{':
			tail = append(tail[:0], b)
			continue
		case b != '\n':
			if len(tail) > 0 && strings.IndexByte("0123456789+}\r", b) >= 0 {
				tail = append(tail, b) // bounded by maxLine
			} else {
				tail = tail[:0]
			}
			continue
		}
		size, ok := literalSize(tail)
		if !ok {
			return nil
		}
		if size > r.maxDiscard {
			return errTooLong
		}
		if _, err := io.CopyN(io.Discard, r.br, size); err != nil {
			return err
		}
		r.n, tail = 0, tail[:0]
	}
}

// literalSize reads the size of the literal {n+} or {n} that ends a line
// (before its CR).
func literalSize(tail []byte) (int64, bool) {
	t := strings.TrimSuffix(string(tail), "\r")
	t, ok := strings.CutPrefix(t, "{")
	if !ok {
		return 0, false
	}
	if t, ok = strings.CutSuffix(t, "}"); !ok {
		return 0, false
	}
	t = strings.TrimSuffix(t, "+")
	if t == "" || strings.Trim(t, "0123456789") != "" {
		return 0, false
	}
	n, err := strconv.ParseInt(t, 10, 64)
	if err != nil {
		return math.MaxInt64, true // too large to discard
	}
	return n, true
}

// fail skips the rest of the line and returns a protocol error.
func (r *reader) fail(format string, args ...any) error {
	if err := r.skipLine(); err != nil {
		return err
	}
	return &protocolError{fmt.Sprintf(format, args...)}
}

// command reads one command line. An empty line gives name "".
func (r *reader) command() (string, []arg, error) {
	args, err := r.line()
	if err != nil {
		return "", nil, err
	}
	return commandName(args), tail(args), nil
}

// line reads one line of arguments.
func (r *reader) line() ([]arg, error) {
	r.n, r.lits = 0, 0
	var args []arg
	for {
		b, err := r.byte()
		if err != nil {
			return nil, err
		}
		switch {
		case b == '\n':
			return args, nil
		case b == '\r':
			b, err := r.byte()
			if err != nil {
				return nil, err
			}
			if b != '\n' {
				return nil, r.fail("Expected CRLF")
			}
			return args, nil
		case b == ' ' && len(args) > 0:
			continue
		case b == '"':
			s, err := r.quoted()
			if err != nil {
				return nil, err
			}
			args = append(args, arg{kind: argString, s: s})
		case b == '{':
			s, err := r.literal()
			if err != nil {
				return nil, err
			}
			args = append(args, arg{kind: argLiteral, s: s})
		case isAtomChar(b):
			var sb strings.Builder
			sb.WriteByte(b)
			for {
				c, err := r.br.Peek(1)
				if err != nil || !isAtomChar(c[0]) {
					break
				}
				r.byte()
				sb.WriteByte(c[0])
			}
			args = append(args, arg{kind: argAtom, s: sb.String()})
		default:
			r.br.UnreadByte()
			r.n--
			return nil, r.fail("Unexpected character %q", b)
		}
	}
}

func commandName(args []arg) string {
	if len(args) == 0 || args[0].kind != argAtom {
		if len(args) > 0 {
			return "\x00" // a line that starts with a string
		}
		return ""
	}
	return strings.ToUpper(args[0].s)
}

func tail(args []arg) []arg {
	if len(args) == 0 {
		return nil
	}
	return args[1:]
}

func isAtomChar(b byte) bool {
	return b > ' ' && b < 0x7f && !strings.ContainsRune("(){}\"%*\\]", rune(b))
}

// quoted reads a quoted string after its opening quote.
func (r *reader) quoted() (string, error) {
	var sb strings.Builder
	for {
		b, err := r.byte()
		if err != nil {
			return "", err
		}
		switch b {
		case '"':
			s := sb.String()
			if !utf8.ValidString(s) {
				return "", r.fail("Invalid UTF-8 in quoted string")
			}
			return s, nil
		case '\\':
			b, err = r.byte()
			if err != nil {
				return "", err
			}
			if b != '"' && b != '\\' {
				return "", r.fail("Invalid escape in quoted string")
			}
		case '\r', '\n':
			if b == '\n' {
				r.br.UnreadByte()
				r.n--
			}
			return "", r.fail("Quoted string not terminated")
		case 0:
			return "", r.fail("NUL in quoted string")
		}
		sb.WriteByte(b)
	}
}

// literal reads a literal after its opening brace.
func (r *reader) literal() (string, error) {
	var num strings.Builder
	for {
		b, err := r.byte()
		if err != nil {
			return "", err
		}
		if b >= '0' && b <= '9' && num.Len() < 19 {
			num.WriteByte(b)
			continue
		}
		if b == '+' {
			if b, err = r.byte(); err != nil {
				return "", err
			}
		}
		if b != '}' || num.Len() == 0 {
			return "", r.fail("Invalid literal")
		}
		break
	}
	b, err := r.byte()
	if err == nil && b == '\r' {
		b, err = r.byte()
	}
	if err != nil {
		return "", err
	}
	if b != '\n' {
		return "", r.fail("Expected CRLF after literal size")
	}
	size, err := strconv.ParseInt(num.String(), 10, 64)
	if err != nil {
		return "", r.fail("Invalid literal size")
	}
	if size > r.maxLiteral {
		if size > r.maxDiscard {
			return "", errTooLong
		}
		if _, err := io.CopyN(io.Discard, r.br, size); err != nil {
			return "", err
		}
		r.n = 0
		if err := r.skipLine(); err != nil {
			return "", err
		}
		return "", &literalTooLarge{max: r.maxLiteral}
	}
	// No command takes more than two strings: a line of many literals
	// would hold them all in memory.
	if r.lits += size; r.lits > 2*r.maxLiteral {
		return "", errTooLong
	}
	buf := make([]byte, size)
	if _, err := io.ReadFull(r.br, buf); err != nil {
		return "", err
	}
	return string(buf), nil
}

// quote returns s as a ManageSieve string: quoted when it is short and
// has no CR, LF or NUL, else a literal.
func quote(s string) string {
	if len(s) > 1024 || strings.ContainsAny(s, "\r\n\x00") {
		return "{" + strconv.Itoa(len(s)) + "}\r\n" + s
	}
	return `"` + strings.NewReplacer(`\`, `\\`, `"`, `\"`).Replace(s) + `"`
}
