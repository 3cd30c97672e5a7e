package main

import (
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
)

func TestServeStartChecks(t *testing.T) {
	dir := t.TempDir()
	file := writeFile(t, dir, "not-a-dir", "x")
	cases := []struct {
		args []string
		want string
	}{
		{nil, "no --relay: replies and redirects would queue forever"},
		{[]string{"--relay", "127.0.0.1:1", "--no-relay"}, "--relay and --no-relay"},
		{[]string{"--no-relay", "--scripts", filepath.Join(dir, "missing")}, "--scripts: scripts directory: open " + filepath.Join(dir, "missing")},
		{[]string{"--no-relay", "--scripts", file}, "not a directory"},
		{[]string{"--no-relay", "--script-source", "store", "--sieve-before", filepath.Join(dir, "before.sieve")}, "--sieve-before: script " + filepath.Join(dir, "before.sieve")},
		{[]string{"--no-relay", "--lmtp-socket-mode", "0999"}, "want octal permissions"},
		{[]string{"--no-relay", "--log-level", "loud"}, `log level "loud"`},
		{[]string{"--no-relay", "--lmtp", "unix:" + filepath.Join(dir, "s.sock"), "--lmtp-socket-owner", "no-such-user-here", "--script-source", "store"}, `socket owner "no-such-user-here"`},
		// AUTH with an empty password would fail at every attempt, only in the relay's log.
		{[]string{"--relay", "127.0.0.1:1", "--relay-auth-user", "bob", "--script-source", "store"}, "--relay-auth-user needs --relay-auth-password-file"},
	}
	for _, c := range cases {
		t.Run(strings.Join(c.args, " "), func(t *testing.T) {
			var out, errOut strings.Builder
			args := append([]string{"--data", t.TempDir(), "--lmtp", "127.0.0.1:0"}, c.args...)
			if code := runServe(args, &out, &errOut); code == 0 {
				t.Fatalf("exit 0, want an error")
			}
			if !strings.Contains(errOut.String(), c.want) {
				t.Errorf("stderr = %q, want it to contain %q", errOut.String(), c.want)
			}
		})
	}
}

// A unix socket gets the mode and group asked for, so Postfix's lmtp
// client (not root) can connect.
func TestLMTPSocketPermissions(t *testing.T) {
	dir := t.TempDir()
	sock := filepath.Join(dir, "lmtp.sock")
	o := &serveOptions{lmtp: "unix:" + sock, lmtpSocketMode: "0620", lmtpSocketGroup: strconv.Itoa(os.Getgid())}
	ln, err := listenLMTP(o)
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	fi, err := os.Stat(sock)
	if err != nil {
		t.Fatal(err)
	}
	if fi.Mode().Perm() != 0o620 || fi.Mode()&os.ModeSocket == 0 {
		t.Errorf("mode %v, want socket 0620", fi.Mode())
	}
	if gid := fi.Sys().(*syscall.Stat_t).Gid; int(gid) != os.Getgid() {
		t.Errorf("gid %d, want %d", gid, os.Getgid())
	}
}

func TestHTTPAddrDefaultsToLoopback(t *testing.T) {
	for in, want := range map[string]string{
		"8025": "127.0.0.1:8025", ":8025": "127.0.0.1:8025",
		"0.0.0.0:8025": "0.0.0.0:8025", "[::]:8025": "[::]:8025", "[::1]:8025": "[::1]:8025",
	} {
		if got := httpAddr(in); got != want {
			t.Errorf("httpAddr(%q) = %q, want %q", in, got, want)
		}
	}
}
