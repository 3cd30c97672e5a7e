package auth

import (
	"context"
	"errors"
	"io"
	"net"
	"net/netip"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/vacationd/vacationd/internal/peertest"
)

// TestDovecotAuth logs in through a real Dovecot auth service.
func TestDovecotAuth(t *testing.T) {
	d := peertest.StartDovecotSieve(t, 20*time.Second, map[string]string{"alice@example.com": "S3cret-pw", "bob@example.com": "hunter2"})
	c := &Dovecot{Socket: d.AuthSocket}
	defer c.Close()
	ctx := context.Background()
	req := Request{Service: "sieve", Secured: true, Remote: netip.MustParseAddr("127.0.0.1"), Local: netip.MustParseAddr("127.0.0.1")}
	var wg sync.WaitGroup
	for _, tc := range []struct {
		user, pass string
		ok         bool
	}{
		{"alice@example.com", "S3cret-pw", true},
		{"bob@example.com", "hunter2", true},
		{"alice@example.com", "wrong", false},
		{"nobody@example.com", "x", false},
		{"bob@example.com", "has\ttab", false},
	} {
		wg.Add(1)
		go func() { // concurrent logins share one connection
			defer wg.Done()
			r := req
			r.User, r.Password = tc.user, tc.pass
			got, err := c.Check(ctx, r)
			if tc.ok && (err != nil || got != tc.user) {
				t.Errorf("%s: %q, %v", tc.user, got, err)
			}
			if !tc.ok && !errors.Is(err, ErrFailed) {
				t.Errorf("%s with a wrong password: %q, %v", tc.user, got, err)
			}
		}()
	}
	wg.Wait()
	// The connection is reopened after it breaks.
	c.Close()
	r := req
	r.User, r.Password = "alice@example.com", "S3cret-pw"
	if _, err := c.Check(ctx, r); err != nil {
		t.Errorf("after reconnect: %v", err)
	}
	bad := &Dovecot{Socket: d.Dir + "/missing"}
	if _, err := bad.Check(ctx, r); err == nil || errors.Is(err, ErrFailed) {
		t.Errorf("missing socket: %v, want an unavailable error", err)
	}
}

// TestDovecotAuthNoAnswer: an auth service that completes the handshake
// but never answers a login gives a temporary failure, not a hang.
func TestDovecotAuthNoAnswer(t *testing.T) {
	sock := filepath.Join(t.TempDir(), "auth-client")
	l, err := net.Listen("unix", sock)
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	go func() {
		c, err := l.Accept()
		if err != nil {
			return
		}
		defer c.Close()
		io.WriteString(c, "VERSION\t1\t2\nMECH\tPLAIN\tplaintext\nSPID\t1\nCUID\t1\nCOOKIE\tx\nDONE\n")
		io.Copy(io.Discard, c) // reads the request, never answers
	}()
	d := &Dovecot{Socket: sock, Timeout: 20 * time.Millisecond}
	defer d.Close()
	_, err = d.Check(context.Background(), Request{User: "a", Password: "b"})
	if err == nil || errors.Is(err, ErrFailed) || !strings.Contains(err.Error(), "no answer") {
		t.Errorf("Check against a silent auth service: %v", err)
	}
}
