package transport

import (
	"context"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/emersion/go-smtp"
)

func TestLMTPCapabilities(t *testing.T) {
	_, addr := startServer(t, Config{Deliverer: &recorder{}, MaxMessageBytes: 12345})
	lc := dialLine(t, "tcp", addr)
	greet := lc.expect(220)
	if !strings.Contains(greet, "mx.test") || !strings.Contains(greet, "LMTP") {
		t.Errorf("greeting %q", greet)
	}
	lc.cmd("EHLO client.test", 500) // LMTP wants LHLO
	caps := lc.cmd("LHLO client.test", 250)
	for _, want := range []string{"PIPELINING", "8BITMIME", "SMTPUTF8", "ENHANCEDSTATUSCODES", "SIZE 12345", "DSN"} {
		if !strings.Contains(caps, want) {
			t.Errorf("LHLO reply lacks %s:\n%s", want, caps)
		}
	}
}

func TestLMTPPerRecipient(t *testing.T) {
	rec := &recorder{answer: func(env *Envelope) []Status {
		st := make([]Status, len(env.Recipients))
		for i, r := range env.Recipients {
			switch {
			case strings.HasPrefix(r.Addr, "temp"):
				st[i] = Status{Code: 452, Enhanced: [3]int{4, 2, 2}, Message: "mailbox full"}
			case strings.HasPrefix(r.Addr, "perm"):
				st[i] = Status{Code: 550, Enhanced: [3]int{5, 7, 1}, Message: "rejected by script"}
			default:
				st[i] = StatusOK("saved " + r.Addr)
			}
		}
		return st
	}}
	_, addr := startServer(t, Config{Deliverer: rec})
	lc := dialLine(t, "tcp", addr)
	lc.expect(220)
	lc.cmd("LHLO client.test", 250)
	// Pipelined: one write for the whole transaction.
	lc.send("MAIL FROM:<sender@example.org> BODY=8BITMIME SMTPUTF8\r\n" +
		"RCPT TO:<ok@example.com> ORCPT=rfc822;orig+2Bx@example.com\r\n" +
		"RCPT TO:<temp@example.com>\r\n" +
		"RCPT TO:<perm@example.com>\r\n" +
		"RCPT TO:<ok@example.com>\r\n" +
		"DATA\r\n")
	for range 5 {
		lc.expect(250)
	}
	lc.expect(354)
	lc.send("Subject: hi\r\n\r\n..dot line\r\nbody\r\n.\r\n")
	want := []struct {
		code int
		text string
	}{
		{250, "2.0.0 <ok@example.com> saved ok@example.com"},
		{452, "4.2.2 <temp@example.com> mailbox full"},
		{550, "5.7.1 <perm@example.com> rejected by script"},
		{250, "2.0.0 <ok@example.com> saved ok@example.com"},
	}
	for _, w := range want {
		code, text := lc.reply()
		if code != w.code || text != w.text {
			t.Errorf("reply %d %q, want %d %q", code, text, w.code, w.text)
		}
	}
	env, msg := rec.last(t)
	if env.From != "sender@example.org" || !env.UTF8 || env.ClientHost != "client.test" || env.Proxied {
		t.Errorf("envelope %+v", env)
	}
	if got := env.ClientAddr.String(); got != lc.c.LocalAddr().String() {
		t.Errorf("ClientAddr %s, want %s", got, lc.c.LocalAddr())
	}
	wantRcpts := []Recipient{
		{Addr: "ok@example.com", ORCPT: "orig+x@example.com"},
		{Addr: "temp@example.com"}, {Addr: "perm@example.com"}, {Addr: "ok@example.com"},
	}
	if fmt.Sprint(env.Recipients) != fmt.Sprint(wantRcpts) {
		t.Errorf("recipients %v, want %v", env.Recipients, wantRcpts)
	}
	if string(msg) != "Subject: hi\r\n\r\n.dot line\r\nbody\r\n" {
		t.Errorf("message %q", msg)
	}
	// The session goes on: a second transaction with the null sender,
	// after a new LHLO.
	lc.transaction("other.test", "", "ok@example.com", "x\r\n")
	lc.expect(250)
	if env, _ := rec.last(t); env.From != "" || len(env.Recipients) != 1 || env.ClientHost != "other.test" {
		t.Errorf("second envelope %+v", env)
	}
	lc.cmd("QUIT", 221)
}

// TestLMTPGoSMTPClient checks the server against go-smtp's LMTP client,
// over a unix socket.
func TestLMTPGoSMTPClient(t *testing.T) {
	rec := &recorder{answer: func(env *Envelope) []Status {
		return []Status{StatusOK("one"), {Code: 451, Enhanced: [3]int{4, 3, 0}, Message: "later"}}
	}}
	sock := filepath.Join(t.TempDir(), "lmtp.sock")
	l, err := Listen("unix:" + sock)
	if err != nil {
		t.Fatal(err)
	}
	serveOn(t, Config{Deliverer: rec}, l)
	c, err := net.Dial("unix", sock)
	if err != nil {
		t.Fatal(err)
	}
	cl := smtp.NewClientLMTP(c)
	defer cl.Close()
	if err := cl.Hello("client.test"); err != nil {
		t.Fatal(err)
	}
	if err := cl.Mail("a@example.org", nil); err != nil {
		t.Fatal(err)
	}
	for _, r := range []string{"x@example.com", "y@example.com"} {
		if err := cl.Rcpt(r, nil); err != nil {
			t.Fatal(err)
		}
	}
	w, err := cl.Data()
	if err != nil {
		t.Fatal(err)
	}
	fmt.Fprint(w, "Subject: t\r\n\r\nhello\r\n")
	resp, err := w.CloseWithLMTPResponse()
	lerr, ok := err.(smtp.LMTPDataError)
	if !ok || len(lerr) != 1 || lerr["y@example.com"].Code != 451 {
		t.Fatalf("LMTP error %v", err)
	}
	if resp["x@example.com"] == nil {
		t.Fatalf("no success for x: %v", resp)
	}
	env, _ := rec.last(t)
	// The client of a unix socket is named by its process.
	if p, ok := env.ClientAddr.(*UnixPeer); !ok || p.PID != os.Getpid() || p.UID != os.Getuid() || p.Path != sock {
		t.Errorf("ClientAddr %T %v, want this process's credentials on %s", env.ClientAddr, env.ClientAddr, sock)
	}
	if env.SessionID == "" {
		t.Error("no session id")
	}
	// A second Listen on the live socket must not steal it.
	if _, err := Listen("unix:" + sock); err == nil {
		t.Error("Listen on a socket in use succeeded")
	}
}

func TestLMTPSizeLimit(t *testing.T) {
	rec := &recorder{}
	_, addr := startServer(t, Config{Deliverer: rec, MaxMessageBytes: 100})
	lc := dialLine(t, "tcp", addr)
	lc.expect(220)
	lc.cmd("LHLO c", 250)
	lc.cmd("MAIL FROM:<a@b> SIZE=101", 552)
	lc.cmd("MAIL FROM:<a@b> SIZE=50", 250)
	lc.cmd("RCPT TO:<x@y>", 250)
	lc.cmd("RCPT TO:<z@y>", 250)
	lc.cmd("DATA", 354)
	lc.send(strings.Repeat("0123456789012345678\r\n", 10) + ".\r\n")
	for range 2 {
		if text := lc.expect(552); !strings.HasPrefix(text, "5.3.4") {
			t.Errorf("oversized reply %q", text)
		}
	}
	lc.cmd("NOOP", 250)
	if len(rec.envs) != 0 {
		t.Errorf("oversized message was delivered")
	}
}

type checkingRecorder struct{ recorder }

func (c *checkingRecorder) CheckRcpt(ctx context.Context, env *Envelope, r Recipient) *Status {
	if strings.HasPrefix(r.Addr, "unknown") {
		return &Status{Code: 550, Enhanced: [3]int{5, 1, 1}, Message: "no such user"}
	}
	if env.From != "s@example.org" {
		return &Status{Code: 451, Enhanced: [3]int{4, 0, 0}, Message: "wrong envelope"}
	}
	return nil
}

func TestRcptChecker(t *testing.T) {
	rec := &checkingRecorder{}
	_, addr := startServer(t, Config{Deliverer: rec})
	lc := dialLine(t, "tcp", addr)
	lc.expect(220)
	lc.cmd("LHLO c", 250)
	lc.cmd("MAIL FROM:<s@example.org>", 250)
	if text := lc.cmd("RCPT TO:<unknown@example.com>", 550); text != "5.1.1 no such user" {
		t.Errorf("RCPT reply %q", text)
	}
	lc.cmd("RCPT TO:<known@example.com>", 250)
	lc.cmd("DATA", 354)
	lc.send("x\r\n.\r\n")
	lc.expect(250)
	if env, _ := rec.last(t); len(env.Recipients) != 1 || env.Recipients[0].Addr != "known@example.com" {
		t.Errorf("recipients %v", env.Recipients)
	}
}

// TestDelivererMisbehaves: whatever the Deliverer does wrong, every
// recipient gets a reply and none a false 250.
func TestDelivererMisbehaves(t *testing.T) {
	tests := []struct {
		name   string
		answer func(*Envelope) []Status
		want   []int
	}{
		{"too few", func(*Envelope) []Status { return []Status{StatusOK("")} }, []int{250, 451}},
		{"too many", func(*Envelope) []Status {
			return []Status{StatusOK(""), StatusOK(""), StatusOK("")}
		}, []int{250, 250}},
		{"invalid code", func(*Envelope) []Status { return []Status{{Code: 354}, {}} }, []int{451, 451}},
		{"panic", func(*Envelope) []Status { panic("boom") }, []int{451, 451}},
		{"no text", func(*Envelope) []Status { return []Status{{Code: 250}, {Code: 452}} }, []int{250, 452}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, addr := startServer(t, Config{Deliverer: &recorder{answer: tt.answer}})
			lc := dialLine(t, "tcp", addr)
			lc.expect(220)
			lc.cmd("LHLO c", 250)
			lc.cmd("MAIL FROM:<a@b>", 250)
			lc.cmd("RCPT TO:<x@y>", 250)
			lc.cmd("RCPT TO:<z@y>", 250)
			lc.cmd("DATA", 354)
			lc.send("x\r\n.\r\n")
			for _, code := range tt.want {
				lc.expect(code)
			}
			lc.cmd("NOOP", 250) // the session survives
		})
	}
}

func TestMaxConns(t *testing.T) {
	srv, addr := startServer(t, Config{Deliverer: &recorder{}, MaxConns: 1})
	first := dialLine(t, "tcp", addr)
	first.expect(220)
	second := dialLine(t, "tcp", addr)
	if text := second.expect(421); !strings.HasPrefix(text, "4.3.2") {
		t.Errorf("refusal %q", text)
	}
	if !second.closed() {
		t.Error("refused connection left open")
	}
	first.cmd("QUIT", 221)
	first.closed()
	// The slot is free again once the first connection is gone.
	waitFor(t, func() bool { return srv.Stats().Active == 0 })
	third := dialLine(t, "tcp", addr)
	third.expect(220)
	if st := srv.Stats(); st.Busy != 1 || st.Accepted != 2 {
		t.Errorf("stats %+v", st)
	}
}

func waitFor(t testing.TB, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatal("condition not reached in 5s")
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// TestShutdown: idle sessions are closed at once, a transaction in flight
// gets its replies, new connections are refused.
func TestShutdown(t *testing.T) {
	entered := make(chan struct{})
	release := make(chan struct{})
	var once sync.Once
	rec := &recorder{answer: func(env *Envelope) []Status {
		once.Do(func() { close(entered) })
		<-release
		return []Status{StatusOK("done")}
	}}
	l, err := Listen("127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	log, _ := testLogger(t)
	srv, err := NewServer(Config{Deliverer: rec, Logger: log, Hostname: "mx.test"})
	if err != nil {
		t.Fatal(err)
	}
	served := make(chan error, 1)
	go func() { served <- srv.Serve(l) }()
	addr := l.Addr().String()

	idle := dialLine(t, "tcp", addr)
	idle.expect(220)
	idle.cmd("LHLO c", 250)
	busy := dialLine(t, "tcp", addr)
	busy.expect(220)
	busy.transaction("c", "a@b", "x@y", "x\r\n")
	<-entered

	shut := make(chan error, 1)
	go func() { shut <- srv.Shutdown(context.Background()) }()
	if !idle.closed() {
		t.Error("idle session not closed by Shutdown")
	}
	if err := <-served; err != nil {
		t.Errorf("Serve returned %v", err)
	}
	if c, err := net.DialTimeout("tcp", addr, time.Second); err == nil {
		c.Close()
		t.Error("new connection accepted during shutdown")
	}
	select {
	case err := <-shut:
		t.Fatalf("Shutdown returned %v with a delivery in flight", err)
	case <-time.After(50 * time.Millisecond):
	}
	close(release)
	if text := busy.expect(250); !strings.Contains(text, "done") {
		t.Errorf("in-flight reply %q", text)
	}
	if !busy.closed() {
		t.Error("session not closed after its transaction")
	}
	if err := <-shut; err != nil {
		t.Errorf("Shutdown: %v", err)
	}
}

func TestShutdownDeadline(t *testing.T) {
	release := make(chan struct{})
	defer close(release)
	entered := make(chan struct{}, 1)
	rec := &recorder{answer: func(env *Envelope) []Status {
		entered <- struct{}{}
		<-release
		return []Status{StatusOK("")}
	}}
	srv, addr := startServer(t, Config{Deliverer: rec})
	lc := dialLine(t, "tcp", addr)
	lc.expect(220)
	lc.transaction("c", "a@b", "x@y", "x\r\n")
	<-entered
	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	if err := srv.Shutdown(ctx); err != context.DeadlineExceeded {
		t.Errorf("Shutdown = %v, want deadline exceeded", err)
	}
	if !lc.closed() {
		t.Error("connection not closed after the deadline")
	}
}

func TestNewServerErrors(t *testing.T) {
	tests := []struct {
		name string
		cfg  Config
		want string
	}{
		{"no deliverer", Config{}, "no Deliverer"},
		{"required without trusted", Config{Deliverer: &recorder{}, Proxy: ProxyRequired}, "trusted network"},
		{"bad mode", Config{Deliverer: &recorder{}, Proxy: 7}, "invalid proxy mode"},
	}
	for _, tt := range tests {
		_, err := NewServer(tt.cfg)
		if err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("%s: err %v, want %q", tt.name, err, tt.want)
		}
	}
}

func TestLMTPChunking(t *testing.T) {
	rec := &recorder{answer: func(env *Envelope) []Status {
		return []Status{StatusOK("first"), StatusTempFail("4.2.0 second later")}
	}}
	_, addr := startServer(t, Config{Deliverer: rec})
	lc := dialLine(t, "tcp", addr)
	lc.expect(220)
	if caps := lc.cmd("LHLO c", 250); !strings.Contains(caps, "CHUNKING") {
		t.Fatalf("no CHUNKING in %q", caps)
	}
	lc.cmd("MAIL FROM:<a@b>", 250)
	lc.cmd("RCPT TO:<x@y>", 250)
	lc.cmd("RCPT TO:<z@y>", 250)
	lc.send("BDAT 9\r\nSubject: ")
	lc.expect(250)
	lc.send("BDAT 9 LAST\r\nt\r\n\r\nbody")
	if text := lc.expect(250); text != "2.0.0 <x@y> first" {
		t.Errorf("first reply %q", text)
	}
	if text := lc.expect(451); text != "4.2.0 <z@y> second later" {
		t.Errorf("second reply %q", text)
	}
	if _, msg := rec.last(t); string(msg) != "Subject: t\r\n\r\nbody" {
		t.Errorf("message %q", msg)
	}
}
