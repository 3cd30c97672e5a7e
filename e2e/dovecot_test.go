//go:build e2e

package e2e

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/vacationd/vacationd/internal/peertest"
)

// TestDovecotDownstream: vacationd in front of a real Dovecot LMTP. Bob's
// message is stored in his Maildir (with vacationd's Received field) and
// his vacation reply reaches the sink; the recipient Dovecot cannot store
// gets Dovecot's 451, and only that one.
func TestDovecotDownstream(t *testing.T) {
	t.Parallel()
	d := peertest.StartDovecot(t, startTimeout)
	sk := peertest.StartSink(t, startTimeout, "")
	scripts := scriptsDir(t, map[string]string{"example.com/bob.sieve": onceScript})
	v := startVacationd(t, nil, append([]string{"--scripts", scripts, "--relay", sk.Addr,
		"--deliver-to", "lmtp:unix:" + d.Sock}, relayFlags...)...)

	got := lmtpSend(t, v.lmtp, "alice@example.org", []string{"bob@example.com", "broken@example.com"},
		[]byte(strings.Replace(string(message("alice@example.org", "dovecot-1")), "To: Bob <bob@example.com>",
			"To: Bob <bob@example.com>, broken@example.com", 1)))
	if got["bob@example.com"] != 250 || got["broken@example.com"] != 451 {
		t.Fatalf("per-recipient replies %v, want bob 250 and broken 451", got)
	}
	files, _ := filepath.Glob(filepath.Join(d.Maildir("bob"), "new", "*"))
	if len(files) != 1 {
		t.Fatalf("%d messages in bob's Maildir, want 1", len(files))
	}
	stored, _ := os.ReadFile(files[0])
	if !strings.Contains(string(stored), "by mx.example.com (vacationd) with LMTP") || !strings.Contains(string(stored), "Message-ID: <dovecot-1@example.org>") {
		t.Errorf("stored message lacks vacationd's Received field or the original header:\n%s", stored)
	}
	sk.WaitCount(t, arriveTimeout, 1)
	if m := sk.Mails(t)[0]; m.MailFrom != "<>" || len(m.Rcpts) != 1 || m.Rcpts[0] != "<alice@example.org>" {
		t.Errorf("reply envelope: MAIL FROM %s RCPT TO %v, want <> to <alice@example.org>", m.MailFrom, m.Rcpts)
	}
}
