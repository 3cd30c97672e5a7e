package auth

import (
	"context"
	"errors"
	"net/netip"
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
