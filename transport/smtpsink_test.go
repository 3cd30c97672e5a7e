package transport

import (
	"context"
	"errors"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// startSink runs Postfix's smtp-sink with extra flags on a free port and
// returns its address; it skips when smtp-sink is absent.
func startSink(t *testing.T, dump string, flags ...string) string {
	t.Helper()
	bin, err := exec.LookPath("smtp-sink")
	if err != nil {
		t.Skip("smtp-sink not installed; skipping the smtp-sink interop test")
	}
	addr := freePort(t)
	args := append([]string{}, flags...)
	if os.Geteuid() == 0 {
		args = append(args, "-u", "nobody")
	}
	if dump != "" {
		args = append(args, "-d", dump+"/%H%M%S.")
	}
	args = append(args, addr, "16")
	var out syncBuffer
	cmd := exec.Command(bin, args...)
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		cmd.Process.Kill()
		cmd.Wait()
		if t.Failed() {
			t.Logf("smtp-sink output:\n%s", out.String())
		}
	})
	deadline := time.Now().Add(5 * time.Second)
	for {
		c, err := net.DialTimeout("tcp", addr, 100*time.Millisecond)
		if err == nil {
			c.Close()
			return addr
		}
		if time.Now().After(deadline) {
			t.Fatalf("smtp-sink did not listen on %s: %v", addr, err)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// TestSmtpSink: the Sender against Postfix's smtp-sink, which offers DSN
// (so NOTIFY=NEVER is sent) and can refuse commands with 4xx or 5xx.
func TestSmtpSink(t *testing.T) {
	tests := []struct {
		name  string
		flags []string
		op    string // "" = delivered
		temp  bool
	}{
		{name: "accepted"},
		{name: "RCPT 4xx", flags: []string{"-r", "RCPT"}, op: "RCPT TO <alice@example.org>", temp: true},
		{name: "RCPT 5xx", flags: []string{"-f", "RCPT"}, op: "RCPT TO <alice@example.org>"},
		{name: "DATA 5xx", flags: []string{"-f", "DATA"}, op: "DATA"},
		{name: "421 at MAIL", flags: []string{"-Q", "MAIL"}, op: "MAIL FROM", temp: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dump := ""
			if tt.op == "" {
				dump = sharedTempDir(t) // smtp-sink writes as nobody
			}
			addr := startSink(t, dump, tt.flags...)
			s := newTestSender(t, SenderConfig{Addr: addr, CommandTimeout: 5 * time.Second})
			err := s.Send(context.Background(), "", []string{"alice@example.org"}, []byte(replyMsg))
			if tt.op != "" {
				var se *SendError
				if !errors.As(err, &se) || se.Op != tt.op || se.Temporary != tt.temp {
					t.Fatalf("err %v, want op %q temporary=%v", err, tt.op, tt.temp)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			var files []string
			waitFor(t, func() bool {
				files, _ = filepath.Glob(filepath.Join(dump, "*"))
				return len(files) == 1
			})
			b, err := os.ReadFile(files[0])
			if err != nil {
				t.Fatal(err)
			}
			dumped := string(b)
			for _, want := range []string{"X-Mail-Args: <>", "X-Rcpt-Args: <alice@example.org> NOTIFY=NEVER", "I am away."} {
				if !strings.Contains(dumped, want) {
					t.Errorf("smtp-sink dump lacks %q:\n%s", want, dumped)
				}
			}
		})
	}
}
