package transport

import (
	"net"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/vacationd/vacationd/internal/peertest"
)

// TestSwaksLMTP drives the server with swaks (pipelining, TCP and a unix
// socket); it skips when swaks is absent.
func TestSwaksLMTP(t *testing.T) {
	bin := peertest.Tool(t, "swaks", "swaks")
	rec := downstream()
	_, addr := startServer(t, Config{Deliverer: rec})
	host, port, _ := net.SplitHostPort(addr)
	sock := filepath.Join(t.TempDir(), "lmtp.sock")
	l, err := Listen("unix:" + sock)
	if err != nil {
		t.Fatal(err)
	}
	serveOn(t, Config{Deliverer: rec}, l)
	tests := []struct {
		name   string
		args   []string
		expect []string // substrings of swaks' transcript
	}{
		{"tcp pipelined", []string{"--server", host, "--port", port, "--pipeline", "--to", "a@example.com,b@example.com"},
			[]string{"<-  250 2.0.0 <a@example.com> saved", "<-  250 2.0.0 <b@example.com> saved"}},
		{"unix socket", []string{"--socket", sock, "--to", "a@example.com"},
			[]string{"<-  250 2.0.0 <a@example.com> saved"}},
		{"one recipient deferred", []string{"--server", host, "--port", port, "--to", "a@example.com,temp@example.com"},
			[]string{"<-  250 2.0.0 <a@example.com> saved", "<** 451 4.2.0 <temp@example.com> mailbox locked"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			args := append([]string{"--protocol", "LMTP", "--from", "s@example.org", "--helo", "swaks.test",
				"--timeout", "10", "--header", "Subject: swaks"}, tt.args...)
			// swaks' exit status ignores per-recipient LMTP failures, so
			// the transcript is what is checked.
			out, _ := exec.Command(bin, args...).CombinedOutput()
			for _, want := range tt.expect {
				if !strings.Contains(string(out), want) {
					t.Errorf("transcript lacks %q:\n%s", want, out)
				}
			}
		})
	}
}
