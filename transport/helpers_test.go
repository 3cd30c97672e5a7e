package transport

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"log/slog"
	"net"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/vacationd/vacationd/internal/peertest"
)

func testLogger(t testing.TB) (*slog.Logger, *peertest.SyncBuffer) {
	buf := &peertest.SyncBuffer{}
	return slog.New(slog.NewTextHandler(buf, &slog.HandlerOptions{Level: slog.LevelDebug})), buf
}

// recorder is a Deliverer that records envelopes and answers with a fixed
// status list (or 250 for everyone).
type recorder struct {
	mu     sync.Mutex
	envs   []Envelope
	msgs   [][]byte
	answer func(env *Envelope) []Status
}

func (r *recorder) Deliver(ctx context.Context, env *Envelope, msg []byte) []Status {
	r.mu.Lock()
	r.envs = append(r.envs, *env)
	r.msgs = append(r.msgs, msg)
	r.mu.Unlock()
	if r.answer != nil {
		return r.answer(env)
	}
	st := make([]Status, len(env.Recipients))
	for i := range st {
		st[i] = StatusOK("delivered")
	}
	return st
}

func (r *recorder) last(t testing.TB) (Envelope, []byte) {
	t.Helper()
	r.mu.Lock()
	defer r.mu.Unlock()
	if len(r.envs) == 0 {
		t.Fatal("no message delivered")
	}
	return r.envs[len(r.envs)-1], r.msgs[len(r.msgs)-1]
}

// startServer serves cfg on a fresh 127.0.0.1 listener and stops it at the
// end of the test.
func startServer(t testing.TB, cfg Config) (*Server, string) {
	t.Helper()
	l, err := Listen("127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	return serveOn(t, cfg, l), l.Addr().String()
}

func serveOn(t testing.TB, cfg Config, l net.Listener) *Server {
	t.Helper()
	if cfg.Hostname == "" {
		cfg.Hostname = "mx.test"
	}
	if cfg.Logger == nil {
		cfg.Logger, _ = testLogger(t)
	}
	srv, err := NewServer(cfg)
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- srv.Serve(l) }()
	t.Cleanup(func() {
		srv.Close()
		if err := <-done; err != nil {
			t.Errorf("Serve: %v", err)
		}
	})
	return srv
}

// lineClient speaks LMTP/SMTP by hand.
type lineClient struct {
	t testing.TB
	c net.Conn
	r *bufio.Reader
}

func dialLine(t testing.TB, network, addr string) *lineClient {
	t.Helper()
	c, err := net.DialTimeout(network, addr, 5*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	c.SetDeadline(time.Now().Add(10 * time.Second))
	t.Cleanup(func() { c.Close() })
	return &lineClient{t: t, c: c, r: bufio.NewReader(c)}
}

func (lc *lineClient) send(s string) {
	lc.t.Helper()
	if _, err := io.WriteString(lc.c, s); err != nil {
		lc.t.Fatalf("write %q: %v", s, err)
	}
}

// reply reads one (possibly multi-line) reply; code 0 and the error text
// when the connection ended.
func (lc *lineClient) reply() (int, string) {
	lc.t.Helper()
	var text []string
	for {
		line, err := lc.r.ReadString('\n')
		if err != nil {
			return 0, fmt.Sprintf("read error: %v (after %q)", err, line)
		}
		line = strings.TrimRight(line, "\r\n")
		if len(line) < 4 {
			lc.t.Fatalf("short reply line %q", line)
		}
		code, err := strconv.Atoi(line[:3])
		if err != nil {
			lc.t.Fatalf("bad reply line %q", line)
		}
		text = append(text, line[4:])
		if line[3] == ' ' {
			return code, strings.Join(text, "\n")
		}
	}
}

// expect reads a reply and checks its code.
func (lc *lineClient) expect(code int) string {
	lc.t.Helper()
	got, text := lc.reply()
	if got != code {
		lc.t.Fatalf("reply %d %q, want %d", got, text, code)
	}
	return text
}

func (lc *lineClient) cmd(line string, code int) string {
	lc.t.Helper()
	lc.send(line + "\r\n")
	return lc.expect(code)
}

// transaction runs LHLO lhlo, MAIL FROM:<from>, RCPT TO:<rcpt> and DATA,
// checking each is accepted, then sends body and the final dot; the reply
// to the end of DATA is left for the caller to read.
func (lc *lineClient) transaction(lhlo, from, rcpt, body string) {
	lc.t.Helper()
	lc.cmd("LHLO "+lhlo, 250)
	lc.cmd("MAIL FROM:<"+from+">", 250)
	lc.cmd("RCPT TO:<"+rcpt+">", 250)
	lc.cmd("DATA", 354)
	lc.send(body + ".\r\n")
}

// closed reports whether the server closed the connection without sending
// anything more.
func (lc *lineClient) closed() bool {
	lc.t.Helper()
	lc.c.SetReadDeadline(time.Now().Add(5 * time.Second))
	b, err := lc.r.ReadByte()
	if err == nil {
		rest, _ := lc.r.ReadString('\n')
		lc.t.Logf("server sent %q", string(b)+rest)
		return false
	}
	return err == io.EOF || strings.Contains(err.Error(), "reset")
}
