//go:build e2e

package e2e

import (
	"fmt"
	"regexp"
	"strings"
	"testing"

	"github.com/emersion/go-smtp"

	"github.com/vacationd/vacationd/internal/peertest"
)

// swaksLMTP sends one message with swaks over LMTP and returns the
// transcript.
func swaksLMTP(t *testing.T, server, from, to string, msg []byte) (string, error) {
	t.Helper()
	return swaks(t, "--protocol", "LMTP", "--server", server,
		"--helo", "client.example.org", "--from", from, "--to", to,
		"--data", "@"+writeFile(t, "msg.eml", msg))
}

// dataReply is the server's first answer after the end of DATA in a swaks
// transcript ("" when there was none).
func dataReply(transcript string) string {
	_, after, ok := strings.Cut(transcript, "\n -> .\n")
	if !ok {
		return ""
	}
	for _, l := range strings.Split(after, "\n") {
		if r, ok := strings.CutPrefix(l, "<-  "); ok {
			return r
		}
		if r, ok := strings.CutPrefix(l, "<** "); ok {
			return r
		}
	}
	return ""
}

// TestHAProxyProxyV2Once: through HAProxy's send-proxy-v2 to vacationd
// with --proxy required, a message gets 250 and one reply from <> at the
// sink; the same message again gets no second reply, and neither does it
// after a restart on the same data directory.
func TestHAProxyProxyV2Once(t *testing.T) {
	t.Parallel()
	sk := peertest.StartSink(t, startTimeout, "")
	scripts := scriptsDir(t, map[string]string{"example.com/bob.sieve": onceScript})
	v := startVacationd(t, nil, "--proxy", "required", "--proxy-trusted", "127.0.0.1/32",
		"--scripts", scripts, "--relay", sk.Addr, "--retry-min", "200ms")
	front := peertest.StartHAProxy(t, startTimeout, peertest.HAProxy{Backend: v.lmtp, Server: "send-proxy-v2", ClientTimeout: haproxyClientTimeout})
	msg := message("alice@example.org", "once-1")

	send := func(round string) {
		t.Helper()
		out, err := swaksLMTP(t, front, "alice@example.org", "bob@example.com", msg)
		if r := dataReply(out); err != nil || !strings.HasPrefix(r, "250") {
			t.Fatalf("%s: swaks through HAProxy: exit %v, reply after DATA %q, want 250\n%s", round, err, r, out)
		}
	}

	send("first message")
	sk.WaitCount(t, arriveTimeout, 1)
	v.waitMetric(`vacationd_outbox_sent_total{kind="vacation"}`, 1)
	mails := sk.Mails(t)
	if len(mails) != 1 {
		t.Fatalf("sink has %d messages, want 1", len(mails))
	}
	m := mails[0]
	if m.MailFrom != "<>" || len(m.Rcpts) != 1 || m.Rcpts[0] != "<alice@example.org>" {
		t.Errorf("reply envelope: MAIL FROM %s RCPT TO %v, want <> and <alice@example.org>", m.MailFrom, m.Rcpts)
	}
	for _, want := range []string{"Auto-Submitted: auto-replied", "In-Reply-To: <once-1@example.org>", "Subject: Away", "I am away until Monday."} {
		if !strings.Contains(m.Text, want) {
			t.Errorf("reply lacks %q:\n%s", want, m.Text)
		}
	}
	if got := v.metric(`vacationd_proxy_rejected_total{cause="missing"}`) + v.metric(`vacationd_proxy_rejected_total{cause="untrusted"}`); got != 0 {
		t.Errorf("%v PROXY rejections, want none", got)
	}

	send("same message again")
	v.waitMetric(`vacationd_vacation_decisions_total{reason="duplicate"}`, 1)
	if n := v.metric(`vacationd_outbox_queued_total{kind="vacation"}`); n != 1 {
		t.Errorf("after the second message %v replies queued in total, want 1", n)
	}
	if !strings.Contains(v.dedup("bob@example.com"), "alice@example.org") {
		t.Errorf("/dedup?user=bob@example.com does not list alice@example.org:\n%s", v.dedup("bob@example.com"))
	}

	v.stop()
	v.start()
	send("after a restart")
	v.waitMetric(`vacationd_vacation_decisions_total{reason="duplicate"}`, 1)
	if n := v.metric(`vacationd_outbox_queued_total{kind="vacation"}`); n != 0 {
		t.Errorf("after the restart %v replies queued, want 0", n)
	}
	if n := v.metric(`vacationd_outbox_depth`); n != 0 {
		t.Errorf("outbox depth %v after the restart, want 0", n)
	}
	if n := sk.Count(t); n != 1 {
		t.Errorf("sink has %d messages, want exactly 1", n)
	}
}

// TestProxyHeaderRefused: a PROXY header from a peer outside
// --proxy-trusted, and a missing header with --proxy required, close the
// connection before the greeting with a log line naming the peer.
func TestProxyHeaderRefused(t *testing.T) {
	t.Parallel()
	v := startVacationd(t, nil, "--proxy", "required", "--proxy-trusted", "192.0.2.0/24,2001:db8::/32",
		"--proxy-timeout", "500ms")
	front := peertest.StartHAProxy(t, startTimeout, peertest.HAProxy{Backend: v.lmtp, Server: "send-proxy-v2", ClientTimeout: haproxyClientTimeout})
	msg := message("alice@example.org", "untrusted-1")

	out, err := swaksLMTP(t, front, "alice@example.org", "bob@example.com", msg)
	if err == nil || strings.Contains(out, "<-  220") {
		t.Errorf("header from an untrusted peer: swaks exit %v, want a refused connection\n%s", err, out)
	}
	v.waitMetricAtLeast(`vacationd_proxy_rejected_total{cause="untrusted"}`, 1)
	line := v.waitLog("PROXY header rejected", "cause=untrusted")
	if !regexp.MustCompile(`peer=127\.0\.0\.1:\d+`).MatchString(line) {
		t.Errorf("rejection log line does not name the peer: %s", line)
	}

	if n := v.metric(`vacationd_lmtp_messages_total`); n != 0 {
		t.Errorf("%v messages received, want 0", n)
	}

	// A trusted peer that sends no header at all.
	v2 := startVacationd(t, nil, "--proxy", "required", "--proxy-trusted", "127.0.0.1/32", "--proxy-timeout", "500ms")
	out, err = swaksLMTP(t, v2.lmtp, "alice@example.org", "bob@example.com", msg)
	if err == nil || strings.Contains(out, "<-  220") {
		t.Errorf("no header with --proxy required: swaks exit %v, want a refused connection\n%s", err, out)
	}
	peertest.WaitFor(t, arriveTimeout, "a rejection for a missing header", func() bool {
		return v2.metric(`vacationd_proxy_rejected_total{cause="timeout"}`)+v2.metric(`vacationd_proxy_rejected_total{cause="missing"}`) >= 1
	})
	v2.waitLog("PROXY header rejected", "peer=127.0.0.1:")
	if n := v2.metric(`vacationd_lmtp_messages_total`); n != 0 {
		t.Errorf("%v messages received without a header, want 0", n)
	}
}

// TestProxyClientAddress: the address a PROXY header carries (v1 and v2,
// written by swaks) is the client address in the log line and in the
// Received field of the forwarded message.
func TestProxyClientAddress(t *testing.T) {
	t.Parallel()
	down := startPeer(t, true, "tcp", "", nil)
	v := startVacationd(t, nil, "--proxy", "required", "--proxy-trusted", "127.0.0.1/32",
		"--deliver-to", "lmtp:"+down.addr)
	_, port, _ := strings.Cut(v.lmtp, ":")
	for i, tc := range []struct{ version, family, source string }{
		{"1", "TCP4", "192.0.2.10"},
		{"2", "AF_INET", "198.51.100.7"},
	} {
		out, err := swaks(t, "--protocol", "LMTP", "--server", v.lmtp, "--helo", "client.example.org",
			"--from", "alice@example.org", "--to", "bob@example.com",
			"--data", "@"+writeFile(t, "msg.eml", message("alice@example.org", fmt.Sprintf("addr-%d", i))),
			"--proxy-version", tc.version, "--proxy-family", tc.family,
			"--proxy-source", tc.source, "--proxy-source-port", "40000",
			"--proxy-dest", "127.0.0.1", "--proxy-dest-port", port)
		if r := dataReply(out); err != nil || !strings.HasPrefix(r, "250") {
			t.Fatalf("PROXY v%s: swaks exit %v, reply after DATA %q, want 250\n%s", tc.version, err, r, out)
		}
		v.waitLog("msg=recipient", "client="+tc.source+":40000")
		msgs := down.received()
		if len(msgs) != i+1 {
			t.Fatalf("downstream has %d messages, want %d", len(msgs), i+1)
		}
		if want := "Received: from client.example.org ([" + tc.source + "])"; !strings.HasPrefix(string(msgs[i].data), want) {
			t.Errorf("PROXY v%s: forwarded message does not start with %q:\n%.200s", tc.version, want, msgs[i].data)
		}
	}
}

// TestDownstreamTempFailPerRecipient: with --deliver-to, a downstream LMTP
// server answering 451 for one recipient makes vacationd answer 451 for
// that recipient only and 250 for the other; over TCP and a unix socket.
func TestDownstreamTempFailPerRecipient(t *testing.T) {
	t.Parallel()
	for _, network := range []string{"tcp", "unix"} {
		t.Run(network, func(t *testing.T) {
			t.Parallel()
			addr := ""
			if network == "unix" {
				addr = t.TempDir() + "/lmtp.sock"
			}
			down := startPeer(t, true, network, addr, nil)
			down.lmtpFail["carol@example.com"] = &smtp.SMTPError{Code: 451, EnhancedCode: smtp.EnhancedCode{4, 2, 0}, Message: "Mailbox busy"}
			target := "lmtp:" + down.addr
			if network == "unix" {
				target = "lmtp:unix:" + down.addr
			}
			v := startVacationd(t, nil, "--deliver-to", target)

			got := lmtpSend(t, v.lmtp, "alice@example.org", []string{"bob@example.com", "carol@example.com"},
				message("alice@example.org", "down-1"))
			if got["bob@example.com"] != 250 || got["carol@example.com"] != 451 {
				t.Fatalf("per-recipient replies %v, want bob 250 and carol 451", got)
			}
			msgs := down.received()
			if len(msgs) != 1 || len(msgs[0].to) != 1 || msgs[0].to[0] != "bob@example.com" {
				t.Fatalf("downstream accepted %+v, want one message for bob@example.com", msgs)
			}
			if msgs[0].from != "alice@example.org" {
				t.Errorf("downstream MAIL FROM %q, want alice@example.org", msgs[0].from)
			}
			if !strings.HasPrefix(string(msgs[0].data), "Received: from client.example.org ([127.0.0.1])") {
				t.Errorf("forwarded message does not start with vacationd's Received field:\n%.300s", msgs[0].data)
			}
		})
	}
}

// TestBrokenScriptStillDelivers: a script with a syntax error is logged
// with its position and the message is delivered anyway (implicit keep).
func TestBrokenScriptStillDelivers(t *testing.T) {
	t.Parallel()
	down := startPeer(t, true, "tcp", "", nil)
	scripts := scriptsDir(t, map[string]string{
		"example.com/bob.sieve": "require \"vacation\";\nvacation :days 3 \"away\"\nkeep;\n",
	})
	v := startVacationd(t, nil, "--scripts", scripts, "--deliver-to", "lmtp:"+down.addr)

	deliverOne(t, v.lmtp, "alice@example.org", "bob@example.com", message("alice@example.org", "broken-1"))
	if msgs := down.received(); len(msgs) != 1 || msgs[0].to[0] != "bob@example.com" {
		t.Fatalf("downstream got %+v, want the message for bob@example.com", msgs)
	}
	line := v.waitLog("does not compile", "bob.sieve")
	if !regexp.MustCompile(`:\d+:\d+: `).MatchString(line) {
		t.Errorf("compile error logged without line:column: %s", line)
	}
	if n := v.metric(`vacationd_outbox_queued_total{kind="vacation"}`); n != 0 {
		t.Errorf("%v replies queued from a broken script, want 0", n)
	}

	// Sidecar mode: the message is consumed with 250 all the same.
	side := startVacationd(t, nil, "--scripts", scripts)
	deliverOne(t, side.lmtp, "alice@example.org", "bob@example.com", message("alice@example.org", "broken-2"))
}

// TestProxyOptionalBothClients: with --proxy optional one listener serves,
// from the same trusted network, HAProxy sending a PROXY v2 header and swaks
// sending none (Postfix on loopback), without waiting out --proxy-timeout
// (a minute, beyond swaks' 30 s wait for the greeting): the first bytes
// decide.
func TestProxyOptionalBothClients(t *testing.T) {
	t.Parallel()
	v := startVacationd(t, nil, "--proxy", "optional", "--proxy-trusted", "127.0.0.1/32",
		"--proxy-timeout", "1m", "--scripts", onceScripts(t))
	front := peertest.StartHAProxy(t, startTimeout, peertest.HAProxy{Backend: v.lmtp, Server: "send-proxy-v2", ClientTimeout: haproxyClientTimeout})
	for _, c := range []struct{ name, server, from string }{
		{"through HAProxy", front, "proxied@example.org"},
		{"direct, no header", v.lmtp, "direct@example.org"},
	} {
		out, err := swaksLMTP(t, c.server, c.from, "bob@example.com", message(c.from, c.name))
		if r := dataReply(out); err != nil || !strings.HasPrefix(r, "250") {
			t.Fatalf("%s: exit %v, reply after DATA %q, want 250\n%s", c.name, err, r, out)
		}
	}
	v.waitMetric(`vacationd_outbox_queued_total{kind="vacation"}`, 2)
	for series, n := range v.metrics() {
		if strings.HasPrefix(series, "vacationd_proxy_rejected_total") && n != 0 {
			t.Errorf("%s = %v", series, n)
		}
	}
}
