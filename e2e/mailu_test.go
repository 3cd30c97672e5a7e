//go:build e2e

package e2e

import (
	"context"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/vacationd/vacationd/internal/mailutest"
	"github.com/vacationd/vacationd/internal/peertest"
)

// mailchain is ../shared/peers/mailchain.sh: a throwaway real Postfix
// (plain, or postscreen demanding PROXY), a private Dovecot LMTP with
// Pigeonhole and Mailu's Sieve settings, HAProxy and an smtp-sink, wired
// like Mailu on loopback.
type mailchain struct {
	t      *testing.T
	script string
	dir    string
}

func newMailchain(t *testing.T) *mailchain {
	t.Helper()
	if os.Geteuid() != 0 {
		t.Skip("mailchain.sh runs Postfix and Dovecot as root; skipping")
	}
	for _, p := range [][2]string{{"postfix", "postfix"}, {"dovecot", "dovecot-core"}, {"haproxy", "haproxy"}, {"swaks", "swaks"}, {"smtp-sink", "postfix"}} {
		peertest.Tool(t, p[0], p[1])
	}
	script, err := filepath.Abs("../../shared/peers/mailchain.sh")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(script); err != nil {
		t.Skipf("mailchain.sh not found: %v", err)
	}
	return &mailchain{t: t, script: script, dir: peertest.SharedDir(t, "vd-mc-", 0o755)}
}

// run runs one mailchain.sh command, failing the test on error.
func (m *mailchain) run(args ...string) string {
	m.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, m.script, args...)
	cmd.Env = append(os.Environ(), "MAILCHAIN_PORT_MIN=1024", "MAILCHAIN_PORT_MAX=65535")
	out, err := cmd.CombinedOutput()
	if err != nil {
		m.t.Fatalf("mailchain.sh %s: %v\n%s", strings.Join(args, " "), err, out)
	}
	return string(out)
}

// start starts a peer kind ("postfix", "dovecot", "sink", "haproxy") in
// DIR/name and stops it when the test ends.
func (m *mailchain) start(kind, name string, args ...string) string {
	m.t.Helper()
	dir := filepath.Join(m.dir, name)
	m.run(append([]string{kind, "start", dir}, args...)...)
	m.t.Cleanup(func() {
		cmd := exec.Command(m.script, kind, "stop", dir)
		cmd.Env = append(os.Environ(), "MAILCHAIN_PORT_MIN=1024", "MAILCHAIN_PORT_MAX=65535")
		if out, err := cmd.CombinedOutput(); err != nil {
			m.t.Logf("mailchain.sh %s stop %s: %v\n%s", kind, dir, err, out)
		}
	})
	return dir
}

func port(addr string) string {
	_, p, _ := net.SplitHostPort(addr)
	return p
}

// sinkMails lists the sink's messages whose RCPT TO is rcpt.
func sinkMails(t *testing.T, dir, rcpt string) []string {
	t.Helper()
	files, _ := filepath.Glob(filepath.Join(dir, "[0-9]*"))
	var out []string
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		if strings.Contains(string(b), "X-Rcpt-Args: <"+rcpt+">") {
			out = append(out, string(b))
		}
	}
	return out
}

// mailuChain is the whole chain: swaks -> Postfix -> vacationd (Mailu
// profile, fake admin serving the captures) -> Dovecot + Pigeonhole
// (submission_host = vacationd) ; replies: vacationd -> Postfix -> sink.
type mailuChain struct {
	mc                  *mailchain
	v                   *vacationd
	pf, sink, dovecot   string
	inbound             string // where swaks sends
	pfAddr, sinkAddr    string
	dovecotAddr, subAdr string
}

func startMailuChain(t *testing.T, proxy bool) *mailuChain {
	t.Helper()
	needServe(t)
	mc := newMailchain(t)
	admin := mailutest.Start(t, "../../shared/mailu/admin")
	scripts, err := filepath.Abs("../../shared/mailu/scripts")
	if err != nil {
		t.Fatal(err)
	}
	c := &mailuChain{mc: mc, pfAddr: peertest.FreeAddr(t), sinkAddr: peertest.FreeAddr(t),
		dovecotAddr: peertest.FreeAddr(t), subAdr: peertest.FreeAddr(t)}
	c.sink = mc.start("sink", "sink", port(c.sinkAddr))
	c.dovecot = mc.start("dovecot", "dovecot", port(c.dovecotAddr), c.subAdr, filepath.Join(scripts, "%n.sieve"))

	v := &vacationd{t: t, lmtp: peertest.FreeAddr(t), http: peertest.FreeAddr(t), data: t.TempDir(), log: &peertest.SyncBuffer{},
		env: []string{"HOSTNAMES=mx.example.test", "DOMAIN=example.test", "POSTMASTER=postmaster",
			"RECIPIENT_DELIMITER=+", "SUBNET=127.0.0.0/8", "LOG_LEVEL=INFO", "PROXY_PROTOCOL=25"}}
	v.args = []string{"serve", "--mailu", "--mailu-admin", admin.URL(),
		"--lmtp", v.lmtp, "--http", v.http, "--data", v.data,
		"--deliver-to", "lmtp:" + c.dovecotAddr, "--relay", c.pfAddr, "--submission", c.subAdr,
		"--retry-min", "1s"}
	if proxy {
		v.args = append(v.args, "--relay-proxy", "v2")
	}
	c.v = v
	v.start()

	pfArgs := []string{port(c.pfAddr), v.lmtp, port(c.sinkAddr)}
	c.inbound = c.pfAddr
	if proxy {
		// Postfix's port demands a PROXY header (Mailu PR 4077); the
		// internet reaches it through HAProxy, vacationd writes its own.
		pfArgs = append(pfArgs, "proxy")
		c.inbound = peertest.FreeAddr(t)
	}
	c.pf = mc.start("postfix", "pf", pfArgs...)
	if proxy {
		mc.start("haproxy", "hap", port(c.inbound), port(c.pfAddr), "v2")
	}
	return c
}

// send mails from -> to through the chain and waits until Postfix has
// delivered it (and the replies it relayed).
func (c *mailuChain) send(t *testing.T, from, to, subject string, headers ...string) {
	t.Helper()
	args := []string{"--server", c.inbound, "--helo", "client.internet.example", "--from", from, "--to", to, "--h-Subject", subject}
	for _, h := range headers {
		args = append(args, "--add-header", h)
	}
	if out, err := swaks(t, args...); err != nil {
		t.Fatalf("swaks %s -> %s: %v\n%s", from, to, err, out)
	}
	c.mc.run("postfix", "wait-empty", c.pf, "30")
}

// waitSink waits until n mails to rcpt reached the sink, and returns them.
func (c *mailuChain) waitSink(t *testing.T, rcpt string, n int) []string {
	t.Helper()
	var got []string
	peertest.WaitFor(t, arriveTimeout, "mail to "+rcpt+" at the sink", func() bool {
		got = sinkMails(t, c.sink, rcpt)
		return len(got) >= n
	})
	return got
}

// settle waits until vacationd's outbox is empty and Postfix's queue too,
// so that a mail that should not arrive had every chance to.
func (c *mailuChain) settle(t *testing.T) {
	t.Helper()
	c.v.waitMetric("vacationd_outbox_depth", 0)
	c.mc.run("postfix", "wait-empty", c.pf, "30")
}

func maildirFiles(t *testing.T, dir string) []string {
	t.Helper()
	var out []string
	for _, sub := range []string{"new", "cur"} {
		f, _ := filepath.Glob(filepath.Join(dir, sub, "*"))
		out = append(out, f...)
	}
	return out
}

// TestMailuChain runs vacationd in Mailu's place between a real Postfix
// and a real Dovecot with Pigeonhole running the same Mailu scripts.
func TestMailuChain(t *testing.T) {
	c := startMailuChain(t, false)
	home := filepath.Join(c.dovecot, "home", "example.test")

	// One reply per sender per day reaches the internet: vacationd's;
	// Dovecot's duplicate is dropped.
	c.send(t, "henry@internet.example", "bob@example.test", "hello bob")
	c.send(t, "henry@internet.example", "bob@example.test", "hello again")
	got := c.waitSink(t, "henry@internet.example", 1)
	c.v.waitMetricAtLeast(`vacationd_submission_messages_total{outcome="dropped"}`, 1)
	c.settle(t)
	if got = sinkMails(t, c.sink, "henry@internet.example"); len(got) != 1 {
		t.Fatalf("%d replies to henry at the sink, want 1:\n%s", len(got), strings.Join(got, "\n----\n"))
	}
	for _, want := range []string{"Message-ID: <vacationd.", "Subject: Auto: hello bob", "Auto-Submitted: auto-replied (vacation)", "X-Mail-Args: <bob@example.test>"} {
		if !strings.Contains(got[0], want) {
			t.Errorf("the reply lacks %q:\n%s", want, got[0])
		}
	}
	if n := len(maildirFiles(t, filepath.Join(home, "bob", "Maildir"))); n != 2 {
		t.Errorf("bob's INBOX has %d messages, want 2", n)
	}
	if log, _ := os.ReadFile(filepath.Join(c.dovecot, "dovecot.log")); !strings.Contains(string(log), "sent vacation response to <henry@internet.example>") {
		t.Errorf("Dovecot did not submit its own reply (the duplicate vacationd drops):\n%s", log)
	}

	// alice: her reply as Pigeonhole writes it (${1} from Postfix's
	// Received field, which Dovecot's own field pushed to index 2).
	c.send(t, "ham@internet.example", "alice@example.test", "ham", "X-Spam-Level: ***")
	alice := c.waitSink(t, "ham@internet.example", 1)[0]
	if !strings.Contains(alice, `Subject: Out of office ("OOO") client.internet.example`) {
		t.Errorf("alice's reply subject is not Pigeonhole's:\n%s", alice)
	}

	// Spam still lands in Junk in Dovecot's mailbox, and nobody replies.
	c.send(t, "spammer@internet.example", "alice@example.test", "spam", "X-Spam-Level: *************")
	junk := filepath.Join(home, "alice", "Maildir", ".Junk")
	peertest.WaitFor(t, arriveTimeout, "spam in alice's Junk", func() bool { return len(maildirFiles(t, junk)) == 1 })

	// A redirect from carol's personal script (Dovecot's ~/.dovecot.sieve)
	// goes through vacationd's submission listener to the internet.
	carol := filepath.Join(home, "carol")
	if err := os.MkdirAll(carol, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(carol, ".dovecot.sieve"), []byte(`redirect "friend@elsewhere.example";`+"\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	chownNobody(t, filepath.Join(home), carol, filepath.Join(carol, ".dovecot.sieve"))
	c.send(t, "lee@internet.example", "carol@example.test", "for carol")
	fwd := c.waitSink(t, "friend@elsewhere.example", 1)[0]
	if !strings.Contains(fwd, "Subject: for carol") {
		t.Errorf("the redirect at the sink is not carol's message:\n%s", fwd)
	}
	if reply := c.waitSink(t, "lee@internet.example", 1); !strings.Contains(reply[0], "Subject: None") {
		t.Errorf("carol's reply:\n%s", reply[0])
	}
	c.settle(t)
	if n := len(sinkMails(t, c.sink, "spammer@internet.example")); n != 0 {
		t.Errorf("%d replies to the spammer", n)
	}
	if n := len(sinkMails(t, c.sink, "lee@internet.example")); n != 1 {
		t.Errorf("%d replies to lee, want 1", n)
	}
	if n := c.v.metric(`vacationd_submission_messages_total{outcome="queued"}`); n != 1 {
		t.Errorf("submission queued %v messages, want 1 (the redirect)", n)
	}
	if n := c.v.metric(`vacationd_mailu_lookups_total{outcome="script"}`); n < 1 {
		t.Errorf("vacationd_mailu_lookups_total{outcome=\"script\"} = %v: the admin was not asked", n)
	}
}

// TestMailuChainProxy: the same with Postfix's port demanding a PROXY
// header (postscreen_upstream_proxy_protocol = haproxy, as Mailu PR 4077
// would do) and vacationd writing one (--relay-proxy v2).
func TestMailuChainProxy(t *testing.T) {
	c := startMailuChain(t, true)
	c.send(t, "nina@internet.example", "bob@example.test", "through the proxy")
	got := c.waitSink(t, "nina@internet.example", 1)
	c.settle(t)
	if got = sinkMails(t, c.sink, "nina@internet.example"); len(got) != 1 || !strings.Contains(got[0], "Subject: Auto: through the proxy") {
		t.Fatalf("replies to nina: %d\n%s", len(got), strings.Join(got, "\n----\n"))
	}
	c.v.waitMetricAtLeast(`vacationd_submission_messages_total{outcome="dropped"}`, 1)
	if log, _ := os.ReadFile(filepath.Join(c.pf, "maillog")); !strings.Contains(string(log), "ALLOWLISTED") && !strings.Contains(string(log), "CONNECT from") {
		t.Errorf("postscreen did not see the PROXY header:\n%s", log)
	}
}

// chownNobody gives paths to the vmail user the Dovecot of mailchain.sh
// runs as.
func chownNobody(t *testing.T, paths ...string) {
	t.Helper()
	out, err := exec.Command("chown", append([]string{"nobody:nogroup"}, paths...)...).CombinedOutput()
	if err != nil {
		t.Fatalf("chown: %v\n%s", err, out)
	}
}
