package peertest

import (
	"bufio"
	"fmt"
	"io"
	"net"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"
)

// SieveConn is a raw ManageSieve (RFC 5804) client for tests: it sends
// command lines as they are and returns the server's responses verbatim,
// with literals inlined, so tests can compare servers byte for byte.
type SieveConn struct {
	t  testing.TB
	c  net.Conn
	br *bufio.Reader
}

// DialSieve connects to a ManageSieve server and returns the connection
// and its greeting.
func DialSieve(t testing.TB, addr string) (*SieveConn, Response) {
	t.Helper()
	c, err := net.DialTimeout("tcp", addr, 5*time.Second)
	if err != nil {
		t.Fatalf("dial managesieve %s: %v", addr, err)
	}
	t.Cleanup(func() { c.Close() })
	s := &SieveConn{t: t, c: c, br: bufio.NewReader(c)}
	return s, s.Read()
}

// Response is one server response: the lines before the status line
// (literals inlined), and the status line (OK, NO or BYE ...), whose
// text may be a literal too, inlined after it.
type Response struct {
	Lines  []string
	Status string
}

// String renders the response as the server sent it, one line each.
func (r Response) String() string {
	return strings.Join(append(append([]string{}, r.Lines...), r.Status), "\n")
}

var literalEnd = regexp.MustCompile(`\{(\d+)\+?\}\r?\n$`)

// line reads one logical line, inlining a literal announced at its end.
func (s *SieveConn) line() (string, error) {
	s.c.SetReadDeadline(time.Now().Add(20 * time.Second))
	l, err := s.br.ReadString('\n')
	if err != nil {
		return l, err
	}
	if m := literalEnd.FindStringSubmatch(l); m != nil {
		n, _ := strconv.Atoi(m[1])
		buf := make([]byte, n)
		if _, err := io.ReadFull(s.br, buf); err != nil {
			return "", err
		}
		rest, err := s.br.ReadString('\n')
		if err != nil {
			return "", err
		}
		return strings.TrimRight(l, "\r\n") + "\n" + string(buf) + strings.TrimRight(rest, "\r\n"), nil
	}
	return strings.TrimRight(l, "\r\n"), nil
}

// Read reads one response.
func (s *SieveConn) Read() Response {
	s.t.Helper()
	var r Response
	for {
		l, err := s.line()
		if err != nil {
			r.Status = fmt.Sprintf("(connection: %v)", err)
			return r
		}
		switch w, _, _ := strings.Cut(l, " "); strings.ToUpper(w) {
		case "OK", "NO", "BYE":
			r.Status = l
			return r
		}
		r.Lines = append(r.Lines, l)
	}
}

// Send writes raw bytes (a command line ends in CRLF).
func (s *SieveConn) Send(raw string) {
	s.t.Helper()
	s.c.SetWriteDeadline(time.Now().Add(10 * time.Second))
	if _, err := io.WriteString(s.c, raw); err != nil {
		s.t.Fatalf("managesieve write: %v", err)
	}
}

// Cmd sends one command line (CRLF added) and reads its response.
func (s *SieveConn) Cmd(line string) Response {
	s.t.Helper()
	s.Send(line + "\r\n")
	return s.Read()
}

// Conn is the underlying connection (for STARTTLS).
func (s *SieveConn) Conn() net.Conn { return s.c }

// SetConn replaces the connection (after a TLS handshake).
func (s *SieveConn) SetConn(c net.Conn) {
	s.c = c
	s.br = bufio.NewReader(c)
}

// ReadLine reads one line that is not a full response (a SASL
// challenge).
func (s *SieveConn) ReadLine() string {
	s.t.Helper()
	l, err := s.line()
	if err != nil {
		s.t.Fatalf("managesieve read: %v", err)
	}
	return l
}

// DialSieveConn is DialSieve over an open connection (after a PROXY
// header the test wrote itself).
func DialSieveConn(t testing.TB, c net.Conn) (*SieveConn, Response) {
	t.Helper()
	s := &SieveConn{t: t, c: c, br: bufio.NewReader(c)}
	return s, s.Read()
}
