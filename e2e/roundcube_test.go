//go:build e2e

package e2e

import (
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/vacationd/vacationd/internal/peertest"
)

// peersDir holds the shared harnesses (roundcube.sh, roundcube-vacation.mjs).
const peersDir = "../../shared/peers"

// nodeDir is where .ci/install-peers puts playwright-core
// ($VACATIOND_NODE_DIR overrides it).
func nodeDir() string {
	if d := os.Getenv("VACATIOND_NODE_DIR"); d != "" {
		return d
	}
	return "/var/cache/vacationd-ci/node"
}

// TestRoundcubeOutOfOffice is the browser test: Roundcube 1.6's
// managesieve plugin, driven by headless Chromium, saves Settings → Out
// of Office against vacationd's ManageSieve (logins checked by the
// private Dovecot's auth service, --auth dovecot:SOCKET). The next
// message through vacationd's LMTP gets that reply at the sink; switched
// off (Roundcube rewrites the script as `if false # true`), replies stop.
// The screenshots and Roundcube's ManageSieve log are kept as artifacts.
func TestRoundcubeOutOfOffice(t *testing.T) {
	needServe(t)
	if os.Geteuid() != 0 {
		peertest.Missing(t, "roundcube.sh needs root (a private Dovecot for the IMAP login)")
	}
	for _, tool := range [][2]string{{"chromium", "chromium"}, {"php", "php-cli"}, {"node", "nodejs"}} {
		peertest.Tool(t, tool[0], tool[1])
	}
	if _, err := os.Stat("/var/lib/roundcube/public_html"); err != nil {
		peertest.Missing(t, "Roundcube not installed (Debian packages roundcube-core roundcube-plugins roundcube-sqlite3)")
	}
	if _, err := os.Stat(filepath.Join(nodeDir(), "node_modules", "playwright-core")); err != nil {
		peertest.Missing(t, "playwright-core not in %s (npm install --prefix %[1]s playwright-core; .ci/install-peers does it)", nodeDir())
	}
	script, err := filepath.Abs(filepath.Join(peersDir, "roundcube.sh"))
	if err != nil {
		t.Fatal(err)
	}
	mjs := filepath.Join(filepath.Dir(script), "roundcube-vacation.mjs")
	// Short: Dovecot's unix sockets live under it (108 bytes at most).
	rcDir, err := os.MkdirTemp("", "rc")
	if err != nil {
		t.Fatal(err)
	}
	env := append(os.Environ(), "RC_DIR="+rcDir, "RC_NODE_DIR="+nodeDir())
	rc := func(timeout time.Duration, args ...string) string {
		t.Helper()
		cmd := exec.Command(script, args...)
		cmd.Env = env
		done := make(chan struct{})
		var out []byte
		var err error
		go func() { out, err = cmd.CombinedOutput(); close(done) }()
		select {
		case <-done:
		case <-time.After(timeout):
			cmd.Process.Kill()
			<-done
			t.Fatalf("roundcube.sh %s: no exit after %s\n%s", args[0], timeout, out)
		}
		if err != nil {
			t.Fatalf("roundcube.sh %s: %v\n%s", args[0], err, out)
		}
		return string(out)
	}
	art := artifactDir(t, "roundcube")
	t.Cleanup(func() {
		stop := exec.Command(script, "stop")
		stop.Env = env // this test's RC_DIR only
		stop.Run()
		for _, f := range []string{"logs/sieve.log", "logs/errors.log", "php.log", "dovecot/dovecot.log"} {
			if b, err := os.ReadFile(filepath.Join(rcDir, f)); err == nil {
				os.WriteFile(filepath.Join(art, strings.ReplaceAll(f, "/", "-")), b, 0o644)
			}
		}
		os.RemoveAll(rcDir)
	})

	imap, dsieve, web := peertest.FreeAddr(t), peertest.FreeAddr(t), peertest.FreeAddr(t)
	port := func(a string) string { return a[strings.LastIndexByte(a, ':')+1:] }
	rc(60*time.Second, "dovecot", port(imap), port(dsieve), sieveUser, sievePass)

	sk := peertest.StartSink(t, startTimeout, "")
	ms := peertest.FreeAddr(t)
	v := startVacationd(t, nil, "--managesieve", ms, "--auth", "dovecot:"+filepath.Join(rcDir, "dovecot/run/auth-client"),
		"--managesieve-auth-fail-delay", "10ms", "--relay", sk.Addr, "--relay-tls", "none")
	rc(60*time.Second, "start", port(imap), ms, port(web))

	browser := func(status, shot string) {
		t.Helper()
		ctx := exec.Command("node", mjs, "http://"+web+"/", sieveUser, sievePass, "Gone fishing", "Back on Monday.", status, filepath.Join(art, shot))
		ctx.Env = env
		out, err := runTimeout(ctx, 3*time.Minute)
		t.Logf("roundcube-vacation.mjs %s:\n%s", status, out)
		if err != nil {
			t.Fatalf("Roundcube could not save the out-of-office (%s): %v", status, err)
		}
	}
	stored := func() string {
		resp, err := http.Get("http://" + v.http + "/scripts?user=" + sieveUser + "&name=roundcube")
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return string(b)
	}

	browser("on", "on.png")
	if s := stored(); !strings.Contains(s, "if true") || !strings.Contains(s, `vacation :subject "Gone fishing"`) {
		t.Errorf("script stored by Roundcube (on):\n%s", s)
	}
	deliverOne(t, v.lmtp, "carol@example.org", sieveUser, toAlice("carol@example.org", "rc1"))
	sk.WaitCount(t, arriveTimeout, 1)
	peertest.WaitFor(t, arriveTimeout, "the whole reply at the sink", func() bool {
		m := sk.Mails(t)[0]
		return strings.Contains(m.Text, "Subject: Gone fishing") && strings.Contains(m.Text, "Back on Monday.")
	})

	browser("off", "off.png")
	if s := stored(); !strings.Contains(s, "if false # true") {
		t.Errorf("script stored by Roundcube (off):\n%s", s)
	}
	deliverOne(t, v.lmtp, "dave@example.org", sieveUser, toAlice("dave@example.org", "rc2"))
	if line := v.waitLog("msg=recipient", "from=dave@example.org"); !strings.Contains(line, "vacation=-") {
		t.Errorf("after switching off: %s", line)
	}
	if n := sk.Count(t); n != 1 {
		t.Errorf("sink holds %d messages, want only the first reply", n)
	}
}

// runTimeout runs cmd and kills it after timeout.
func runTimeout(cmd *exec.Cmd, timeout time.Duration) (string, error) {
	timer := time.AfterFunc(timeout, func() {
		if cmd.Process != nil {
			cmd.Process.Kill()
		}
	})
	defer timer.Stop()
	out, err := cmd.CombinedOutput()
	return string(out), err
}
