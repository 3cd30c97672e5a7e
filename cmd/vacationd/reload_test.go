package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/emersion/go-smtp"
	"github.com/vacationd/vacationd/internal/peertest"
)

// lmtpConn is one kept-open LMTP client connection.
type lmtpConn struct {
	t  *testing.T
	cl *smtp.Client
}

func dialLMTP(t *testing.T, network, addr string) *lmtpConn {
	t.Helper()
	c, err := net.DialTimeout(network, addr, 5*time.Second)
	if err != nil {
		t.Fatalf("connect %s: %v", addr, err)
	}
	cl := smtp.NewClientLMTP(c)
	cl.CommandTimeout = 10 * time.Second
	cl.SubmissionTimeout = 10 * time.Second
	t.Cleanup(func() { cl.Close() })
	if err := cl.Hello("client.example.org"); err != nil {
		t.Fatalf("LHLO: %v", err)
	}
	return &lmtpConn{t, cl}
}

// send delivers one message to rcpt and fails unless it got 250.
func (l *lmtpConn) send(from, rcpt, msg string) {
	l.t.Helper()
	if err := l.cl.Mail(from, nil); err != nil {
		l.t.Fatalf("MAIL FROM: %v", err)
	}
	if err := l.cl.Rcpt(rcpt, nil); err != nil {
		l.t.Fatalf("RCPT TO: %v", err)
	}
	w, err := l.cl.Data()
	if err != nil {
		l.t.Fatalf("DATA: %v", err)
	}
	io.WriteString(w, msg)
	if _, err := w.CloseWithLMTPResponse(); err != nil {
		var lerr smtp.LMTPDataError
		if errors.As(err, &lerr) {
			l.t.Fatalf("end of DATA: %v", lerr[rcpt])
		}
		l.t.Fatalf("end of DATA: %v", err)
	}
}

func testMessage(from, id string) string {
	return fmt.Sprintf("From: %s\r\nTo: bob@example.com\r\nSubject: hello\r\nMessage-ID: <%s@example.org>\r\n\r\nHi.\r\n", from, id)
}

// metric returns the value of one sample on /metrics, or "".
func metric(t *testing.T, httpAddr, name string) string {
	t.Helper()
	resp, err := http.Get("http://" + httpAddr + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	for _, line := range strings.Split(string(b), "\n") {
		if v, ok := strings.CutPrefix(line, name+" "); ok {
			return v
		}
	}
	return ""
}

// kill -HUP reloads the config file while a client stays connected: the
// new scripts directory and log level are in effect for the next message
// on the same connection, and an invalid file is refused, keeping the
// configuration in effect.
func TestSIGHUPReloadsWithoutDroppingConnections(t *testing.T) {
	dir := t.TempDir()
	writeFile(t, dir, "a/example.com/bob.sieve", "keep;\n")
	writeFile(t, dir, "b/example.com/bob.sieve", "require \"vacation\";\nvacation :days 1 \"I am away.\";\n")
	sock := filepath.Join(dir, "lmtp.sock")
	httpAddr := peertest.FreeAddr(t)
	cfgFile := filepath.Join(dir, "vacationd.toml")
	writeCfg := func(scripts, level string) {
		writeFile(t, dir, "vacationd.toml", fmt.Sprintf("scripts = %q\nlog-level = %q\nno-relay = true\nlmtp-socket-mode = \"0660\"\n", filepath.Join(dir, scripts), level))
	}
	writeCfg("a", "info")
	logs := serveInProcess(t, "--config", cfgFile, "--data", filepath.Join(dir, "data"),
		"--lmtp", "unix:"+sock, "--http", httpAddr, "--hostname", "mx.example.com")
	if fi, err := os.Stat(sock); err != nil || fi.Mode().Perm() != 0o660 {
		t.Errorf("socket mode: %v %v, want 0660", fi.Mode(), err)
	}
	c := dialLMTP(t, "unix", sock)
	c.send("alice@example.org", "bob@example.com", testMessage("alice@example.org", "1"))
	if d := metric(t, httpAddr, "vacationd_outbox_depth"); d != "0" {
		t.Fatalf("outbox depth %q before the reload, want 0 (script keep)", d)
	}

	hup := func(want string) {
		t.Helper()
		n := strings.Count(logs.String(), want)
		if err := syscall.Kill(os.Getpid(), syscall.SIGHUP); err != nil {
			t.Fatal(err)
		}
		peertest.WaitFor(t, 10*time.Second, want, func() bool { return strings.Count(logs.String(), want) > n })
	}
	writeCfg("b", "debug")
	hup("msg=reloaded")
	if !strings.Contains(logs.String(), "log-level: info -> debug") || !strings.Contains(logs.String(), "scripts: ") {
		t.Errorf("reload log does not say what changed:\n%s", logs.String())
	}
	c.send("carol@example.org", "bob@example.com", testMessage("carol@example.org", "2"))
	if d := metric(t, httpAddr, "vacationd_outbox_depth"); d != "1" {
		t.Fatalf("outbox depth %q after the reload, want 1 (vacation script)\n%s", d, logs.String())
	}
	if !strings.Contains(logs.String(), "level=DEBUG") {
		t.Errorf("no debug line after --log-level debug:\n%s", logs.String())
	}

	// Refused: the old configuration stays.
	writeFile(t, dir, "vacationd.toml", "scripts = 42\nbogus = 1\n")
	hup("reload refused")
	os.RemoveAll(filepath.Join(dir, "a"))
	writeCfg("a", "info") // a directory that is gone
	hup("reload refused")
	if !strings.Contains(logs.String(), "--scripts") {
		t.Errorf("refusal does not name --scripts:\n%s", logs.String())
	}
	c.send("dave@example.org", "bob@example.com", testMessage("dave@example.org", "3"))
	if d := metric(t, httpAddr, "vacationd_outbox_depth"); d != "2" {
		t.Fatalf("outbox depth %q after refused reloads, want 2 (still script b)", d)
	}
	// A restart-only setting is reported, not applied.
	writeFile(t, dir, "vacationd.toml", fmt.Sprintf("scripts = %q\nno-relay = true\nmax-conns = 3\nlmtp-socket-mode = \"0660\"\n", filepath.Join(dir, "b")))
	hup("msg=reloaded")
	if !strings.Contains(logs.String(), "max-conns: 256 -> 3 (restart needed)") {
		t.Errorf("restart-only change not reported:\n%s", logs.String())
	}
}

// Reloads while clients deliver on open connections: every message is
// answered 250 and no connection drops (run with -race).
func TestReloadUnderLoad(t *testing.T) {
	dir := t.TempDir()
	writeFile(t, dir, "a/example.com/bob.sieve", "keep;\n")
	writeFile(t, dir, "b/example.com/bob.sieve", "require \"vacation\";\nvacation :days 1 \"Away.\";\n")
	cfgFile := writeFile(t, dir, "v.toml", fmt.Sprintf("scripts = %q\n", filepath.Join(dir, "a")))
	sock := filepath.Join(dir, "lmtp.sock")
	args := []string{"--config", cfgFile, "--data", filepath.Join(dir, "data"), "--lmtp", "unix:" + sock, "--no-relay"}
	load := func() (*config, error) { return loadConfig(args, nil, io.Discard) }
	cfg, err := load()
	if err != nil {
		t.Fatal(err)
	}
	logs := &peertest.SyncBuffer{}
	hup := make(chan os.Signal)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- serve(ctx, cfg, load, hup, logs) }()
	peertest.WaitFor(t, 10*time.Second, "serving", func() bool { return strings.Contains(logs.String(), "vacationd serving") })

	const clients, messages = 4, 25
	var wg sync.WaitGroup
	for c := range clients {
		wg.Add(1)
		go func() {
			defer wg.Done()
			conn, err := net.Dial("unix", sock)
			if err != nil {
				t.Error(err)
				return
			}
			cl := smtp.NewClientLMTP(conn)
			defer cl.Close()
			if err := cl.Hello("client.example.org"); err != nil {
				t.Error(err)
				return
			}
			for m := range messages {
				from := fmt.Sprintf("s%d-%d@example.org", c, m)
				if err := cl.SendMail(from, []string{"bob@example.com"}, strings.NewReader(testMessage(from, from))); err != nil {
					t.Errorf("message %d on connection %d: %v", m, c, err)
					return
				}
			}
		}()
	}
	for i := range 20 {
		// Written aside and renamed, as an admin's editor does: a reload
		// never reads half a file.
		writeFile(t, dir, "v.toml.new", fmt.Sprintf("scripts = %q\n", filepath.Join(dir, []string{"a", "b"}[i%2])))
		if err := os.Rename(filepath.Join(dir, "v.toml.new"), cfgFile); err != nil {
			t.Fatal(err)
		}
		hup <- syscall.SIGHUP
	}
	wg.Wait()
	cancel()
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	if n := strings.Count(logs.String(), "msg=reloaded"); n != 20 {
		t.Errorf("%d reloads logged, want 20", n)
	}
	if n := strings.Count(logs.String(), "msg=recipient"); n != clients*messages {
		t.Errorf("%d recipients logged, want %d", n, clients*messages)
	}
}

// serveInProcess runs `vacationd serve` with args in this process until
// the test ends (SIGTERM, then the exit status is checked) and returns
// its log once it is serving.
func serveInProcess(t *testing.T, args ...string) *peertest.SyncBuffer {
	t.Helper()
	logs := &peertest.SyncBuffer{}
	done := make(chan int, 1)
	go func() { done <- runServe(args, io.Discard, logs) }()
	peertest.WaitFor(t, 10*time.Second, "vacationd serving", func() bool {
		select {
		case code := <-done:
			t.Fatalf("serve exited %d:\n%s", code, logs.String())
		default:
		}
		return strings.Contains(logs.String(), "vacationd serving")
	})
	t.Cleanup(func() {
		syscall.Kill(os.Getpid(), syscall.SIGTERM)
		if code := <-done; code != 0 {
			t.Errorf("serve exit %d:\n%s", code, logs.String())
		}
	})
	return logs
}
