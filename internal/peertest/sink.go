package peertest

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// Sink is Postfix's smtp-sink dumping every transaction into its own file
// in Dir.
type Sink struct {
	Addr, Dir string
	Proc      *Proc
}

// StartSink runs smtp-sink on addr ("" for a free port) with extra flags
// (e.g. "-r", "RCPT" to defer every RCPT) and waits up to start for it to
// listen. It skips when smtp-sink (Debian package postfix) is absent.
func StartSink(t testing.TB, start time.Duration, addr string, flags ...string) *Sink {
	t.Helper()
	path := Tool(t, "smtp-sink", "postfix")
	if addr == "" {
		addr = FreeAddr(t)
	}
	// smtp-sink drops privileges when run as root, so the dump directory
	// must be writable by that user.
	dir := SharedDir(t, "vacationd-peertest-sink-", 0o777)
	args := append([]string{"-h", "sink.example.net", "-d", dir + "/%Y%m%d%H%M%S."}, flags...)
	if os.Geteuid() == 0 {
		args = append(args, "-u", "nobody")
	}
	args = append(args, addr, "64")
	s := &Sink{Addr: addr, Dir: dir, Proc: StartProc(t, "smtp-sink", nil, nil, path, args...)}
	s.Proc.WaitDial(t, start, "tcp", addr)
	return s
}

// SinkMail is one transaction dumped by smtp-sink.
type SinkMail struct {
	File     string
	MailFrom string   // the MAIL FROM path, e.g. "<>"
	Rcpts    []string // the RCPT TO paths
	Text     string   // the whole dump
}

// Mails reads every dumped transaction.
func (s *Sink) Mails(t testing.TB) []SinkMail {
	t.Helper()
	var out []SinkMail
	for _, f := range s.files(t) {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		m := SinkMail{File: f, Text: string(b)}
		for _, l := range strings.Split(m.Text, "\n") {
			l = strings.TrimRight(l, "\r")
			if v, ok := strings.CutPrefix(l, "X-Mail-Args: "); ok {
				m.MailFrom, _, _ = strings.Cut(v, " ")
			}
			if v, ok := strings.CutPrefix(l, "X-Rcpt-Args: "); ok {
				r, _, _ := strings.Cut(v, " ")
				m.Rcpts = append(m.Rcpts, r)
			}
			if l == "" {
				break
			}
		}
		out = append(out, m)
	}
	return out
}

// Count is the number of transactions received so far.
func (s *Sink) Count(t testing.TB) int {
	t.Helper()
	return len(s.files(t))
}

// WaitCount waits up to timeout until at least n transactions have
// arrived.
func (s *Sink) WaitCount(t testing.TB, timeout time.Duration, n int) {
	t.Helper()
	WaitFor(t, timeout, fmt.Sprintf("%d messages at smtp-sink", n), func() bool {
		return s.Count(t) >= n
	})
}

func (s *Sink) files(t testing.TB) []string {
	t.Helper()
	files, err := filepath.Glob(filepath.Join(s.Dir, "*"))
	if err != nil {
		t.Fatal(err)
	}
	// smtp-sink creates a transaction's file before it writes it (it
	// writes when the transaction ends): an empty file is one still being
	// received, or cut short by a kill of the sink.
	out := files[:0]
	for _, f := range files {
		if st, err := os.Stat(f); err == nil && st.Size() > 0 {
			out = append(out, f)
		}
	}
	return out
}
