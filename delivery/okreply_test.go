package delivery

import (
	"bufio"
	"net"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/vacationd/vacationd/transport"
)

// TestOKReplyOnTheWire: a recipient's 250 after DATA reads as Dovecot's
// LMTP writes it, "250 2.0.0 <rcpt> SESSION Ok", with the recipient named
// once: the LMTP server puts "<rcpt> " in front of every per-recipient
// reply, so the text the pipeline returns must not carry it too.
func TestOKReplyOnTheWire(t *testing.T) {
	f := newFixture(t, map[string]string{"example.com/bob.sieve": vacationScript}, nil)
	addr := listenTransport(t, transport.Config{Deliverer: f.svc, Hostname: "mx.example.com"})
	conn, err := net.DialTimeout("tcp", addr, 5*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	conn.SetDeadline(time.Now().Add(10 * time.Second))
	r := bufio.NewReader(conn)
	reply := func() string {
		t.Helper()
		for {
			line, err := r.ReadString('\n')
			if err != nil {
				t.Fatalf("reading the reply: %v", err)
			}
			if len(line) < 4 || line[3] != '-' {
				return strings.TrimRight(line, "\r\n")
			}
		}
	}
	reply() // greeting
	for _, c := range []string{"LHLO client.example.net", "MAIL FROM:<alice@example.org>",
		"RCPT TO:<bob@example.com>", "RCPT TO:<carol@example.com>", "DATA"} {
		conn.Write([]byte(c + "\r\n"))
		reply()
	}
	conn.Write([]byte(testMsg + ".\r\n"))
	for _, rcpt := range []string{"bob@example.com", "carol@example.com"} {
		got := reply()
		want := regexp.MustCompile(`^250 2\.0\.0 <` + regexp.QuoteMeta(rcpt) + `> [A-Z0-9]+ Ok$`)
		if !want.MatchString(got) {
			t.Errorf("reply for %s: %q, want %s", rcpt, got, want)
		}
	}
}

// listenTransport serves cfg on a free loopback port until the test ends
// and returns the address.
func listenTransport(t *testing.T, cfg transport.Config) string {
	t.Helper()
	srv, err := transport.NewServer(cfg)
	if err != nil {
		t.Fatal(err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	go srv.Serve(ln)
	t.Cleanup(func() { srv.Close() })
	return ln.Addr().String()
}
