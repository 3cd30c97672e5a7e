// Package peertest starts the real peers that interop and end-to-end tests
// talk to (HAProxy, Postfix's smtp-sink, Dovecot LMTP) and holds the small
// helpers those tests share: programs looked up or the test skipped, free
// 127.0.0.1 ports, bounded polling, child processes tied to the test's life.
//
// Every starter skips the test, naming the Debian package to install, when
// its program is absent; in CI (the environment variable CI is "true") it
// fails the test instead, so a peer that is not installed cannot turn an
// interop test into a silent pass. Bounds are the caller's: each wait takes its
// timeout, so every test package keeps its own.
package peertest

import (
	"bytes"
	"fmt"
	"os"
	"os/exec"
	"sync"
	"testing"
	"time"
)

// PollInterval is the pause between two polls of WaitFor.
const PollInterval = 20 * time.Millisecond

// Tool returns the path of an external program, or skips the test naming
// the Debian package that provides it. /usr/sbin is searched too, since it
// is not on every user's PATH.
func Tool(t testing.TB, name, pkg string) string {
	t.Helper()
	if p, err := exec.LookPath(name); err == nil {
		return p
	}
	for _, dir := range []string{"/usr/sbin", "/usr/bin", "/usr/local/sbin"} {
		p := dir + "/" + name
		if st, err := os.Stat(p); err == nil && st.Mode()&0o111 != 0 {
			return p
		}
	}
	Missing(t, "%s not found (install the Debian package %s)", name, pkg)
	return ""
}

// InCI reports whether the tests run in CI: the environment variable CI is
// "true" (or "1"), as .ci/run and most CI services set it.
func InCI() bool {
	v := os.Getenv("CI")
	return v == "true" || v == "1"
}

// Missing ends a test whose peer cannot run here: a skip on a developer's
// machine, a failure in CI (see [InCI]), where .ci/install-peers has
// installed every peer and a missing one is a broken set-up.
func Missing(t testing.TB, format string, args ...any) {
	t.Helper()
	msg := fmt.Sprintf(format, args...)
	if InCI() {
		t.Fatalf("%s; failing: CI=%s and every peer must run in CI", msg, os.Getenv("CI"))
	}
	t.Skipf("%s; skipping (CI is not set)", msg)
}

// WaitFor polls cond until it holds, failing the test after timeout; what
// names the awaited state in the failure.
func WaitFor(t testing.TB, timeout time.Duration, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out after %s waiting for %s", timeout, what)
		}
		time.Sleep(PollInterval)
	}
}

// SharedDir makes a fresh directory with the given mode outside
// t.TempDir (whose parents are private to us), for peers that drop root to
// another user, and removes it at the end of the test.
func SharedDir(t testing.TB, prefix string, mode os.FileMode) string {
	t.Helper()
	dir, err := os.MkdirTemp("", prefix)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(dir) })
	if err := os.Chmod(dir, mode); err != nil {
		t.Fatal(err)
	}
	return dir
}

// SyncBuffer collects output written from several goroutines (a process's
// stdout and stderr, a logger).
type SyncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *SyncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *SyncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// Take returns what was written since the last Take and empties the
// buffer.
func (s *SyncBuffer) Take() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := s.b.String()
	s.b.Reset()
	return out
}
