//go:build e2e

package e2e

import (
	"fmt"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/emersion/go-smtp"

	"github.com/vacationd/vacationd/internal/peertest"
)

// relayFlags are the flags every relay test uses: quick retries.
var relayFlags = []string{"--retry-min", "200ms", "--retry-max", "1s"}

// queueReplies delivers n messages from distinct senders to bob (who
// replies once per sender) and returns the senders.
func queueReplies(t *testing.T, v *vacationd, n int) []string {
	t.Helper()
	var senders []string
	for i := range n {
		from := fmt.Sprintf("sender%02d@example.org", i)
		deliverOne(t, v.lmtp, from, "bob@example.com", message(from, fmt.Sprintf("q-%d", i)))
		senders = append(senders, from)
	}
	return senders
}

// checkOnce fails unless the sink holds exactly one reply from <> to each
// sender and nothing else.
func checkOnce(t *testing.T, sk *peertest.Sink, senders []string) {
	t.Helper()
	seen := map[string]int{}
	for _, m := range sk.Mails(t) {
		if m.MailFrom != "<>" {
			t.Errorf("%s: MAIL FROM %s, want <>", m.File, m.MailFrom)
		}
		for _, r := range m.Rcpts {
			seen[strings.Trim(r, "<>")]++
		}
	}
	for _, s := range senders {
		if seen[s] != 1 {
			t.Errorf("%s got %d replies, want exactly 1", s, seen[s])
		}
		delete(seen, s)
	}
	if len(seen) > 0 {
		t.Errorf("unexpected replies: %v", seen)
	}
}

// onceScripts is a scripts directory where bob replies once per sender.
func onceScripts(t *testing.T) string {
	return scriptsDir(t, map[string]string{"example.com/bob.sieve": onceScript})
}

// TestRelayDownThenUp: replies queued while the relay is down arrive once
// it starts.
func TestRelayDownThenUp(t *testing.T) {
	t.Parallel()
	relayAddr := peertest.FreeAddr(t)
	v := startVacationd(t, nil, append([]string{"--scripts", onceScripts(t), "--relay", relayAddr,
		"--health-max-outbox-age", "300ms"}, relayFlags...)...)
	senders := queueReplies(t, v, 3)
	v.waitMetricAtLeast(`vacationd_relay_errors_total{class="temporary"}`, 1)
	if n := v.metric("vacationd_outbox_depth"); n != 3 {
		t.Fatalf("outbox depth %v with the relay down, want 3", n)
	}
	peertest.WaitFor(t, arriveTimeout, "/healthz 503 with replies stuck", func() bool { return v.healthz() == 503 })

	sk := peertest.StartSink(t, startTimeout, relayAddr)
	sk.WaitCount(t, arriveTimeout, 3)
	v.waitMetric(`vacationd_outbox_sent_total{kind="vacation"}`, 3)
	v.waitMetric("vacationd_outbox_depth", 0)
	checkOnce(t, sk, senders)
	if code := v.healthz(); code != 200 {
		t.Errorf("/healthz %d with the outbox empty, want 200", code)
	}
}

// TestKill9KeepsQueuedReplies: replies acknowledged before a kill -9 are
// all delivered after the restart, exactly once.
func TestKill9KeepsQueuedReplies(t *testing.T) {
	t.Parallel()
	relayAddr := peertest.FreeAddr(t)
	v := startVacationd(t, nil, append([]string{"--scripts", onceScripts(t), "--relay", relayAddr}, relayFlags...)...)
	senders := queueReplies(t, v, 20)
	if n := v.metric("vacationd_outbox_depth"); n != 20 {
		t.Fatalf("outbox depth %v, want 20", n)
	}
	v.kill()

	sk := peertest.StartSink(t, startTimeout, relayAddr)
	v.start()
	sk.WaitCount(t, arriveTimeout, 20)
	v.waitMetric(`vacationd_outbox_sent_total{kind="vacation"}`, 20)
	v.waitMetric("vacationd_outbox_depth", 0)
	checkOnce(t, sk, senders)

	// The dedup marks survived too: a second round gets no replies.
	for _, from := range senders[:3] {
		deliverOne(t, v.lmtp, from, "bob@example.com", message(from, "again-"+from))
	}
	v.waitMetric(`vacationd_vacation_decisions_total{reason="duplicate"}`, 3)
	if n := v.metric(`vacationd_outbox_queued_total{kind="vacation"}`); n != 0 {
		t.Errorf("%v replies queued for senders already answered before the kill, want 0", n)
	}
}

// TestKill9WhileSending: kill -9 while replies are being relayed; after a
// restart every reply has arrived, and a reply arrives twice only if the
// relay accepted it just before the kill: in flight, or accepted while
// the deletion of sent records waited to share a transaction
// (store.Options.DoneDelay, see store's package documentation).
func TestKill9WhileSending(t *testing.T) {
	t.Parallel()
	const n, workers = 200, 4
	sk := peertest.StartSink(t, startTimeout, "")
	v := startVacationd(t, nil, append([]string{"--scripts", onceScripts(t), "--relay", sk.Addr,
		"--relay-workers", fmt.Sprint(workers)}, relayFlags...)...)
	senders := queueReplies(t, v, n)
	killed := time.Now()
	v.kill()
	before := sk.Count(t)

	v.start()
	v.waitMetric("vacationd_outbox_depth", 0)
	sent := v.metric(`vacationd_outbox_sent_total{kind="vacation"}`)
	first := map[string]time.Time{} // when each sender's first reply arrived
	seen := map[string]int{}
	for _, m := range sk.Mails(t) {
		st, err := os.Stat(m.File)
		if err != nil {
			t.Fatal(err)
		}
		for _, r := range m.Rcpts {
			s := strings.Trim(r, "<>")
			seen[s]++
			if at, ok := first[s]; !ok || st.ModTime().Before(at) {
				first[s] = st.ModTime()
			}
		}
	}
	dups := 0
	for _, s := range senders {
		if seen[s] == 0 {
			t.Errorf("no reply to %s", s)
		}
		if seen[s] > 1 {
			dups += seen[s] - 1
			// The window: the deletion's delay and its fsync, with room
			// for a loaded machine.
			if age := killed.Sub(first[s]); age > time.Second {
				t.Errorf("%s got %d replies, the first %v before the kill: long after its deletion was due", s, seen[s], age)
			}
		}
	}
	t.Logf("%d replies at the sink before the kill, %v sent after the restart, %d duplicates", before, sent, dups)
}

// TestRelayProxyV2: a relay behind HAProxy's accept-proxy bind gets the
// replies when vacationd writes a PROXY v2 header, and none without.
func TestRelayProxyV2(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		proxy  string
		arrive bool
	}{{"v2", true}, {"off", false}} {
		t.Run(tc.proxy, func(t *testing.T) {
			t.Parallel()
			sk := peertest.StartSink(t, startTimeout, "")
			front := peertest.StartHAProxy(t, startTimeout, peertest.HAProxy{Bind: "accept-proxy", Backend: sk.Addr, ClientTimeout: haproxyClientTimeout})
			v := startVacationd(t, nil, append([]string{"--scripts", onceScripts(t), "--relay", front,
				"--relay-proxy", tc.proxy}, relayFlags...)...)
			queueReplies(t, v, 1)
			if tc.arrive {
				sk.WaitCount(t, arriveTimeout, 1)
				v.waitMetric(`vacationd_outbox_sent_total{kind="vacation"}`, 1)
				if m := sk.Mails(t)[0]; m.MailFrom != "<>" {
					t.Errorf("MAIL FROM %s, want <>", m.MailFrom)
				}
				return
			}
			v.waitMetricAtLeast(`vacationd_relay_errors_total{class="temporary"}`, 1)
			v.waitLog("will retry")
			if n := sk.Count(t); n != 0 {
				t.Errorf("%d replies at the sink without a PROXY header, want 0", n)
			}
			if n := v.metric("vacationd_outbox_depth"); n != 1 {
				t.Errorf("outbox depth %v, want the reply kept (1)", n)
			}
		})
	}
}

// TestRelayRetryAfter452: a relay answering 452 and then 250 gets the
// reply on the retry.
func TestRelayRetryAfter452(t *testing.T) {
	t.Parallel()
	rl := startPeer(t, false, "tcp", "", nil)
	rl.rcptReplies = []error{&smtp.SMTPError{Code: 452, EnhancedCode: smtp.EnhancedCode{4, 3, 1}, Message: "Insufficient system storage"}}
	v := startVacationd(t, nil, append([]string{"--scripts", onceScripts(t), "--relay", rl.addr}, relayFlags...)...)
	queueReplies(t, v, 1)
	v.waitMetric(`vacationd_outbox_sent_total{kind="vacation"}`, 1)
	msgs := rl.received()
	if len(msgs) != 1 || msgs[0].from != "" || msgs[0].to[0] != "sender00@example.org" {
		t.Fatalf("relay accepted %+v, want one reply from <> to sender00@example.org", msgs)
	}
	if n := v.metric(`vacationd_outbox_retried_total{kind="vacation"}`); n != 1 {
		t.Errorf("retried %v times, want 1", n)
	}
	v.waitLog("relay failed temporarily", "452")
	v.waitLog("outbox=sent", "attempts=2")
}

// TestRelay550Drops: a 5xx to a recipient drops its reply, with a log
// line and no bounce, once the refusal is confirmed: the relay refused it
// again after accepting another reply in between (so a relay refusing
// everyone is not mistaken for a refused recipient).
func TestRelay550Drops(t *testing.T) {
	t.Parallel()
	rl := startPeer(t, false, "tcp", "", nil)
	refused := &smtp.SMTPError{Code: 550, EnhancedCode: smtp.EnhancedCode{5, 1, 1}, Message: "No such user"}
	rl.rcptReplies = []error{refused, nil, refused} // sender00, sender01, sender00 again
	v := startVacationd(t, nil, append(append([]string{"--scripts", onceScripts(t), "--relay", rl.addr,
		"--relay-workers", "1"}, relayFlags...), "--retry-min", "1s")...)
	queueReplies(t, v, 2)
	v.waitMetric(`vacationd_outbox_dropped_total{cause="recipient"}`, 1)
	v.waitLog("dropped", "550", "sender00@example.org")
	v.waitMetric("vacationd_outbox_depth", 0)
	msgs := rl.received()
	if len(msgs) != 1 || msgs[0].to[0] != "sender01@example.org" {
		t.Errorf("relay got %+v, want only the reply to sender01 (no bounce)", msgs)
	}
	if n := rl.rcptCount(); n != 3 {
		t.Errorf("relay saw %d RCPT commands, want 3 (the refusal confirmed once)", n)
	}
}

// TestRelayRefusingEveryoneKeepsReplies: a relay answering 554 to MAIL
// FROM (an authorisation change) for a while drops nothing: every reply is
// retried and delivered once the relay accepts again, and /healthz shows
// the relay's failures meanwhile.
func TestRelayRefusingEveryoneKeepsReplies(t *testing.T) {
	t.Parallel()
	rl := startPeer(t, false, "tcp", "", nil)
	rl.mailReply = &smtp.SMTPError{Code: 554, EnhancedCode: smtp.EnhancedCode{5, 7, 1}, Message: "Relay access denied"}
	v := startVacationd(t, nil, append([]string{"--scripts", onceScripts(t), "--relay", rl.addr}, relayFlags...)...)
	senders := queueReplies(t, v, 5)
	v.waitMetricAtLeast(`vacationd_relay_errors_total{class="temporary"}`, 10)
	if n := v.metric("vacationd_outbox_depth"); n != 5 {
		t.Fatalf("outbox depth %v while the relay refuses, want 5", n)
	}
	rl.mu.Lock()
	rl.mailReply = nil
	rl.mu.Unlock()
	v.waitMetric(`vacationd_outbox_sent_total{kind="vacation"}`, 5)
	got := map[string]int{}
	for _, m := range rl.received() {
		got[m.to[0]]++
	}
	for _, s := range senders {
		if got[s] != 1 {
			t.Errorf("%s got %d replies, want 1", s, got[s])
		}
	}
	for series, n := range v.metrics() {
		if strings.HasPrefix(series, "vacationd_outbox_dropped_total") && n != 0 {
			t.Errorf("%s = %v, want nothing dropped", series, n)
		}
	}
}

// TestRelaySTARTTLS: STARTTLS to a relay with a test certificate works when
// its CA is trusted or verification is off, and fails verification (the
// reply stays queued) when the CA is unknown.
func TestRelaySTARTTLS(t *testing.T) {
	t.Parallel()
	serverTLS, caFile := testCA(t)
	for _, tc := range []struct {
		name   string
		env    []string
		flags  []string
		arrive bool
	}{
		{"trusted CA, auto", []string{"SSL_CERT_FILE=" + caFile}, nil, true},
		{"trusted CA, starttls", []string{"SSL_CERT_FILE=" + caFile}, []string{"--relay-tls", "starttls"}, true},
		{"untrusted, verify off", nil, []string{"--relay-tls", "starttls", "--relay-tls-verify=false"}, true},
		{"untrusted, verify on", nil, []string{"--relay-tls", "starttls"}, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			rl := startPeer(t, false, "tcp", "", serverTLS)
			v := startVacationd(t, tc.env, append(append([]string{"--scripts", onceScripts(t), "--relay", rl.addr}, relayFlags...), tc.flags...)...)
			queueReplies(t, v, 1)
			if tc.arrive {
				v.waitMetric(`vacationd_outbox_sent_total{kind="vacation"}`, 1)
				msgs := rl.received()
				if len(msgs) != 1 || !msgs[0].tls {
					t.Fatalf("relay got %+v, want one message over TLS", msgs)
				}
				return
			}
			v.waitMetricAtLeast(`vacationd_relay_errors_total{class="temporary"}`, 1)
			v.waitLog("will retry", "certificate")
			if msgs := rl.received(); len(msgs) != 0 {
				t.Errorf("relay with an untrusted certificate got %d messages, want none", len(msgs))
			}
			if n := v.metric("vacationd_outbox_depth"); n != 1 {
				t.Errorf("outbox depth %v, want the reply kept (1)", n)
			}
		})
	}
}

// TestRelayAuth: AUTH PLAIN over STARTTLS with --relay-auth-user and
// --relay-auth-password-file; a wrong password keeps the reply queued.
func TestRelayAuth(t *testing.T) {
	t.Parallel()
	serverTLS, caFile := testCA(t)
	for _, tc := range []struct {
		name, password string
		arrive         bool
	}{{"right password", "s3cret\n", true}, {"wrong password", "guess\n", false}} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			rl := startPeer(t, false, "tcp", "", serverTLS)
			rl.authUser, rl.authPass = "vacationd", "s3cret"
			pwFile := writeFile(t, "password", []byte(tc.password))
			v := startVacationd(t, []string{"SSL_CERT_FILE=" + caFile}, append([]string{"--scripts", onceScripts(t),
				"--relay", rl.addr, "--relay-tls", "starttls",
				"--relay-auth-user", "vacationd", "--relay-auth-password-file", pwFile}, relayFlags...)...)
			queueReplies(t, v, 1)
			if tc.arrive {
				v.waitMetric(`vacationd_outbox_sent_total{kind="vacation"}`, 1)
				if msgs := rl.received(); len(msgs) != 1 || !msgs[0].tls {
					t.Fatalf("relay got %+v, want one message over TLS", msgs)
				}
				return
			}
			v.waitLog("will retry", "AUTH", "535")
			if msgs := rl.received(); len(msgs) != 0 {
				t.Errorf("relay got %d messages with a wrong password, want none", len(msgs))
			}
			if n := v.metric("vacationd_outbox_depth"); n != 1 {
				t.Errorf("outbox depth %v, want the reply kept (1)", n)
			}
		})
	}
}

// TestRelayWithoutSMTPUTF8: a reply to an SMTPUTF8 sender through a relay
// that does not offer SMTPUTF8 is dropped with an error line naming the
// cause, and counted, not silently lost or retried for days.
func TestRelayWithoutSMTPUTF8(t *testing.T) {
	t.Parallel()
	rl := startPeer(t, false, "tcp", "", nil) // no SMTPUTF8
	v := startVacationd(t, nil, append([]string{"--scripts", onceScripts(t), "--relay", rl.addr}, relayFlags...)...)
	from := "jörg@example.org"
	deliverOne(t, v.lmtp, from, "bob@example.com", message(from, "utf8-1"))
	v.waitMetric(`vacationd_outbox_dropped_total{cause="smtputf8"}`, 1)
	v.waitLog("level=ERROR", "cannot be sent through this relay", "cause=smtputf8", "SMTPUTF8")
	if n := len(rl.received()); n != 0 {
		t.Errorf("relay got %d messages", n)
	}
}
