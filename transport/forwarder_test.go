package transport

import (
	"bufio"
	"context"
	"fmt"
	"net"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"
)

func newTestForwarder(t testing.TB, target string) *Forwarder {
	t.Helper()
	log, _ := testLogger(t)
	f, err := NewForwarder(ForwarderConfig{Target: target, LHLOName: "vacationd.test", Logger: log,
		DialTimeout: time.Second, CommandTimeout: 5 * time.Second, DataTimeout: 5 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { f.Close() })
	return f
}

// downstream answers per recipient by local part: temp* 451, perm* 550.
func downstream() *checkingRecorder {
	return &checkingRecorder{recorder{answer: func(env *Envelope) []Status {
		st := make([]Status, len(env.Recipients))
		for i, r := range env.Recipients {
			switch {
			case strings.HasPrefix(r.Addr, "temp"):
				st[i] = Status{Code: 451, Enhanced: [3]int{4, 2, 0}, Message: "mailbox locked"}
			case strings.HasPrefix(r.Addr, "perm"):
				st[i] = Status{Code: 552, Enhanced: [3]int{5, 2, 2}, Message: "quota exceeded"}
			default:
				st[i] = StatusOK("saved")
			}
		}
		return st
	}}}
}

func TestForwarderPerRecipient(t *testing.T) {
	down := downstream()
	srv, addr := startServer(t, Config{Deliverer: down})
	f := newTestForwarder(t, "lmtp:"+addr)
	to := []Recipient{
		{Addr: "alice@example.com", ORCPT: "alice+x@example.com"},
		{Addr: "temp@example.com"},
		{Addr: "perm@example.com"},
		{Addr: "unknown@example.com"}, // refused at RCPT
		{Addr: "alice@example.com"},   // duplicate: sent once
	}
	received := "Received: from client.test ([192.0.2.7])\r\n\tby mx.test (vacationd) with LMTP; Thu, 26 Nov 2026 21:00:00 +0000"
	msg := "Subject: fwd\r\n\r\nbody\r\n"
	// Each recipient's downstream reply comes back in place.
	got := f.Forward(context.Background(), "s@example.org", to, received, []byte(msg))
	want := []string{
		"250 2.0.0 <alice@example.com> saved",
		"451 4.2.0 Downstream: <temp@example.com> mailbox locked",
		"552 5.2.2 Downstream: <perm@example.com> quota exceeded",
		"550 5.1.1 Downstream: no such user",
		"250 2.0.0 <alice@example.com> saved",
	}
	if len(got) != len(want) {
		t.Fatalf("%d statuses for %d recipients", len(got), len(to))
	}
	for i := range want {
		if got[i].String() != want[i] {
			t.Errorf("recipient %d: %q, want %q", i, got[i], want[i])
		}
	}
	env, body := down.last(t)
	if env.From != "s@example.org" || len(env.Recipients) != 3 {
		t.Fatalf("downstream envelope %+v", env)
	}
	if env.Recipients[0].ORCPT != "alice+x@example.com" {
		t.Errorf("ORCPT %q not passed on", env.Recipients[0].ORCPT)
	}
	if string(body) != received+"\r\n"+msg {
		t.Errorf("downstream message %q", body)
	}
	// A second message reuses the connection.
	got = f.Deliver(context.Background(), "s@example.org", []string{"bob@example.com"}, []byte(msg))
	if len(got) != 1 || !got[0].OK() {
		t.Fatalf("second message: %v", got)
	}
	if n := srv.Stats().Accepted; n != 1 {
		t.Errorf("%d downstream connections, want 1", n)
	}
}

// TestForwarderOne451: the case — one recipient 451, the others
// delivered.
func TestForwarderOne451(t *testing.T) {
	down := downstream()
	sock := filepath.Join(t.TempDir(), "dovecot-lmtp")
	l, err := Listen("unix:" + sock)
	if err != nil {
		t.Fatal(err)
	}
	serveOn(t, Config{Deliverer: down}, l)
	f := newTestForwarder(t, "lmtp:unix:"+sock)
	got := f.Deliver(context.Background(), "s@example.org",
		[]string{"a@example.com", "temp@example.com", "b@example.com"}, []byte("x\r\n"))
	codes := fmt.Sprint(got[0].Code, got[1].Code, got[2].Code)
	if codes != "250 451 250" {
		t.Errorf("codes %s, want 250 451 250 (%v)", codes, got)
	}
}

func TestForwarderUnavailable(t *testing.T) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	l.Close()
	f := newTestForwarder(t, "lmtp:"+addr)
	got := f.Deliver(context.Background(), "s@example.org", []string{"a@example.com", "b@example.com"}, []byte("x\r\n"))
	for i, st := range got {
		if st.Code != 451 || st.Enhanced != [3]int{4, 4, 1} {
			t.Errorf("recipient %d: %v, want 451 4.4.1", i, st)
		}
	}
}

// scriptedLMTP serves one connection with canned replies, then closes it.
func scriptedLMTP(t *testing.T, afterData []string) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { l.Close() })
	go func() {
		if c, err := l.Accept(); err == nil {
			scriptedSession(c, afterData)
		}
	}()
	return l.Addr().String()
}

// scriptedSession answers one LMTP transaction on c with 250s, and
// afterData after the message, then closes c.
func scriptedSession(c net.Conn, afterData []string) {
	defer c.Close()
	c.SetDeadline(time.Now().Add(10 * time.Second))
	r := bufio.NewReader(c)
	fmt.Fprint(c, "220 scripted LMTP\r\n")
	for {
		line, err := r.ReadString('\n')
		if err != nil {
			return
		}
		switch cmd := strings.ToUpper(strings.Fields(line)[0]); cmd {
		case "LHLO":
			fmt.Fprint(c, "250-scripted\r\n250 PIPELINING\r\n")
		case "DATA":
			fmt.Fprint(c, "354 go on\r\n")
			for {
				l, err := r.ReadString('\n')
				if err != nil || l == ".\r\n" {
					break
				}
			}
			for _, reply := range afterData {
				fmt.Fprint(c, reply+"\r\n")
			}
			return // then the connection drops
		default:
			fmt.Fprint(c, "250 2.0.0 ok\r\n")
		}
	}
}

// TestForwarderConnectionLost: replies that stop half-way leave the rest
// of the recipients with 451, not lost and not 250.
func TestForwarderConnectionLost(t *testing.T) {
	addr := scriptedLMTP(t, []string{"250 2.0.0 <a@example.com> saved"})
	f := newTestForwarder(t, "lmtp:"+addr)
	got := f.Deliver(context.Background(), "s@example.org", []string{"a@example.com", "b@example.com"}, []byte("x\r\n"))
	if !got[0].OK() || got[1].Code != 451 || got[1].Enhanced != [3]int{4, 4, 2} {
		t.Errorf("statuses %v, want 250 then 451 4.4.2", got)
	}
}

func TestForwarderContext(t *testing.T) {
	block := make(chan struct{})
	defer close(block)
	_, addr := startServer(t, Config{Deliverer: &recorder{answer: func(env *Envelope) []Status {
		<-block
		return []Status{StatusOK("")}
	}}})
	f := newTestForwarder(t, "lmtp:"+addr)
	ctx, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
	defer cancel()
	got := f.Deliver(ctx, "s@example.org", []string{"a@example.com"}, []byte("x\r\n"))
	if got[0].Code != 451 || !strings.Contains(got[0].Message, "deadline") {
		t.Errorf("status %v, want 451 naming the deadline", got[0])
	}
}

func TestParseLMTPTarget(t *testing.T) {
	tests := []struct {
		in, network, addr string
		ok                bool
	}{
		{"lmtp:127.0.0.1:24", "tcp", "127.0.0.1:24", true},
		{"lmtp:inet:dovecot:24", "tcp", "dovecot:24", true},
		{"lmtp:[::1]:24", "tcp", "[::1]:24", true},
		{"lmtp:unix:/run/dovecot/lmtp", "unix", "/run/dovecot/lmtp", true},
		{"lmtp:unix:", "", "", false},
		{"lmtp:dovecot", "", "", false},
		{"smtp:host:25", "", "", false},
	}
	for _, tt := range tests {
		network, addr, err := ParseLMTPTarget(tt.in)
		if (err == nil) != tt.ok || network != tt.network || addr != tt.addr {
			t.Errorf("ParseLMTPTarget(%q) = %q, %q, %v", tt.in, network, addr, err)
		}
	}
}

// TestForwarderPooledSessionClosed: a pooled session the downstream has
// closed since (a restart) is taken at once under load, without a peek at
// the socket; its transaction fails before any reply and goes through on
// a new session.
func TestForwarderPooledSessionClosed(t *testing.T) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { l.Close() })
	var accepted atomic.Int32
	go func() {
		for {
			c, err := l.Accept()
			if err != nil {
				return
			}
			accepted.Add(1)
			// One transaction, then the connection ends, as a restarting
			// server's would.
			go scriptedSession(c, []string{"250 2.0.0 saved"})
		}
	}()
	f := newTestForwarder(t, "lmtp:"+l.Addr().String())
	for i := range 2 {
		got := f.Deliver(context.Background(), "s@example.org", []string{"a@example.com"}, []byte("x\r\n"))
		if !got[0].OK() {
			t.Fatalf("message %d: %v", i, got[0])
		}
	}
	if n := accepted.Load(); n != 2 {
		t.Errorf("%d sessions, want 2", n)
	}
}
