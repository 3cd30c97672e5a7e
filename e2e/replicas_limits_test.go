//go:build e2e

package e2e

import (
	"fmt"
	"strings"
	"sync"
	"testing"
)

// TestReplicasBackscatterLimit: senders rotating victim+N@ send bob a
// message each, spread over the 3 replicas by HAProxy, several at once:
// the replicas count the replies in PostgreSQL, so at most
// sieve_vacation_max_replies_per_address replies reach the victim in all,
// not that many per replica, and every replica refused some.
func TestReplicasBackscatterLimit(t *testing.T) {
	const perAddress, senders, sessions = 4, 36, 6
	c := startCluster(t, "30s", "-o", fmt.Sprintf("sieve_vacation_max_replies_per_address=%d", perAddress))
	c.startSink(t)
	var wg sync.WaitGroup
	for s := range sessions {
		wg.Go(func() {
			for i := s; i < senders; i += sessions {
				from := fmt.Sprintf("victim+%d@example.org", i)
				if code, err := lmtpOnce(c.front, from, "bob@example.com", message(from, fmt.Sprintf("bs%d", i))); code != 250 {
					t.Errorf("message from %s: %d %v", from, code, err)
				}
			}
		})
	}
	wg.Wait()
	c.waitDrained(t)
	replies := 0
	for rcpt, n := range c.replies(t) {
		if !strings.HasPrefix(rcpt, "victim+") {
			t.Errorf("%d replies to %s", n, rcpt)
		}
		replies += n
	}
	if replies != perAddress {
		t.Errorf("%d replies reached the victim from 3 replicas, want %d (the limit)", replies, perAddress)
	}
	limited := 0.0
	for i, v := range c.replicas {
		n := v.metric(`vacationd_vacation_decisions_total{reason="rate-limited"}`)
		if n == 0 {
			t.Errorf("replica %d refused no reply: the load did not reach every replica past the limit", i)
		}
		limited += n
	}
	if limited != senders-perAddress {
		t.Errorf("%v replies rate-limited over the replicas, want %d", limited, senders-perAddress)
	}
}
