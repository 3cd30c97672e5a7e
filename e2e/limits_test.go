//go:build e2e

package e2e

import (
	"bytes"
	"fmt"
	"strings"
	"testing"
)

// TestBackscatterLimit: replies to one destination address are limited
// across users and +detail variants; the rest are not sent, with the
// reason rate-limited in the delivery line and the decision counter.
func TestBackscatterLimit(t *testing.T) {
	t.Parallel()
	scripts := scriptsDir(t, map[string]string{
		"example.com/bob.sieve":   onceScript,
		"example.com/carol.sieve": onceScript,
	})
	v := startVacationd(t, nil, "--scripts", scripts, "-o", "sieve_vacation_max_replies_per_address=3")
	for i := range 6 {
		from := fmt.Sprintf("Victim+%d@example.org", i)
		rcpt := "bob@example.com"
		if i%2 == 1 {
			rcpt = "carol@example.com"
		}
		msg := bytes.ReplaceAll(message(from, fmt.Sprintf("bs-%d", i)), []byte("bob@example.com"), []byte(rcpt))
		deliverOne(t, v.lmtp, from, rcpt, msg)
	}
	v.waitMetric(`vacationd_vacation_decisions_total{reason="rate-limited"}`, 3)
	if n := v.metric("vacationd_outbox_depth"); n != 3 {
		t.Errorf("%v replies queued, want 3", n)
	}
	v.waitLog("vacation=rate-limited", "Victim+3@example.org")
}

// TestLongLineWithSwaks: swaks sends a message with a 5,000-octet line;
// vacationd accepts it (it used to answer 451, then 500 and drop the
// connection, so the client retried forever), and the reply is queued.
func TestLongLineWithSwaks(t *testing.T) {
	t.Parallel()
	v := startVacationd(t, nil, "--scripts", onceScripts(t))
	from := "long@example.org"
	msg := bytes.Replace(message(from, "long-1"), []byte("Are we still on"), []byte(strings.Repeat("x", 5000)+"\r\nAre we still on"), 1)
	out, err := swaksLMTP(t, v.lmtp, from, "bob@example.com", msg)
	if err != nil {
		t.Fatalf("swaks: %v\n%s", err, out)
	}
	if r := dataReply(out); !strings.HasPrefix(r, "250 ") {
		t.Fatalf("reply after DATA %q:\n%s", r, out)
	}
	v.waitMetric("vacationd_outbox_depth", 1)
}
