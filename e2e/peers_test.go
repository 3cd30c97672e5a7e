//go:build e2e

package e2e

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// sink is Postfix's smtp-sink dumping every message into its own file.
type sink struct {
	addr, dir string
	p         *proc
}

// startSink runs smtp-sink on addr ("" for a free port).
func startSink(t *testing.T, addr string) *sink {
	t.Helper()
	path := tool(t, "smtp-sink", "postfix")
	if addr == "" {
		addr = freeAddr(t)
	}
	// smtp-sink drops privileges when run as root, so the dump directory
	// must be writable by that user; t.TempDir is private to us.
	dir, err := os.MkdirTemp("", "vacationd-e2e-sink-")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(dir) })
	if err := os.Chmod(dir, 0o777); err != nil {
		t.Fatal(err)
	}
	args := []string{"-h", "sink.example.net", "-d", dir + "/%Y%m%d%H%M%S."}
	if os.Geteuid() == 0 {
		args = append(args, "-u", "nobody")
	}
	args = append(args, addr, "64")
	s := &sink{addr: addr, dir: dir, p: startProc(t, "smtp-sink", nil, nil, path, args...)}
	waitListening(t, s.p, addr)
	return s
}

// sinkMail is one transaction dumped by smtp-sink.
type sinkMail struct {
	file     string
	mailFrom string   // the MAIL FROM path, e.g. "<>"
	rcpts    []string // the RCPT TO paths
	text     string   // the whole dump
}

// mails reads every dumped transaction.
func (s *sink) mails(t *testing.T) []sinkMail {
	t.Helper()
	files, err := filepath.Glob(filepath.Join(s.dir, "*"))
	if err != nil {
		t.Fatal(err)
	}
	var out []sinkMail
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		m := sinkMail{file: f, text: string(b)}
		for _, l := range strings.Split(m.text, "\n") {
			l = strings.TrimRight(l, "\r")
			if v, ok := strings.CutPrefix(l, "X-Mail-Args: "); ok {
				m.mailFrom, _, _ = strings.Cut(v, " ")
			}
			if v, ok := strings.CutPrefix(l, "X-Rcpt-Args: "); ok {
				r, _, _ := strings.Cut(v, " ")
				m.rcpts = append(m.rcpts, r)
			}
			if l == "" {
				break
			}
		}
		out = append(out, m)
	}
	return out
}

// count is the number of transactions received so far.
func (s *sink) count(t *testing.T) int {
	t.Helper()
	files, err := filepath.Glob(filepath.Join(s.dir, "*"))
	if err != nil {
		t.Fatal(err)
	}
	return len(files)
}

// waitCount waits until n transactions have arrived.
func (s *sink) waitCount(t *testing.T, n int) {
	t.Helper()
	waitFor(t, arriveTimeout, fmt.Sprintf("%d messages at smtp-sink", n), func() bool {
		return s.count(t) >= n
	})
}

// startHAProxy runs HAProxy in TCP mode: a frontend on a free port (with
// bindOpts, e.g. "accept-proxy") forwarding to backend (with serverOpts,
// e.g. "send-proxy-v2"). It returns the frontend's address.
func startHAProxy(t *testing.T, bindOpts, backend, serverOpts string) string {
	t.Helper()
	path := tool(t, "haproxy", "haproxy")
	front := freeAddr(t)
	cfg := fmt.Sprintf(`global
    maxconn 256

defaults
    mode tcp
    timeout connect 5s
    timeout client 2s
    timeout server 30s

frontend e2e_in
    bind %s %s
    default_backend e2e_out

backend e2e_out
    server peer %s %s
`, front, bindOpts, backend, serverOpts)
	file := filepath.Join(t.TempDir(), "haproxy.cfg")
	if err := os.WriteFile(file, []byte(cfg), 0o644); err != nil {
		t.Fatal(err)
	}
	p := startProc(t, "haproxy", nil, nil, path, "-db", "-f", file)
	waitListening(t, p, front)
	return front
}

// swaks runs swaks and returns its transcript; err is its exit status.
func swaks(t *testing.T, args ...string) (string, error) {
	t.Helper()
	return runCmd(t, tool(t, "swaks", "swaks"), args...)
}

// writeFile writes b into a fresh file and returns its path.
func writeFile(t *testing.T, name string, b []byte) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), name)
	if err := os.WriteFile(p, b, 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}
