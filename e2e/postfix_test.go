//go:build e2e

package e2e

import (
	"path/filepath"
	"strings"
	"testing"

	"github.com/vacationd/vacationd/internal/peertest"
)

// TestPostfixLMTPUnixSocket: Postfix's own lmtp client, running as the
// user postfix, delivers to vacationd's unix socket. With a socket only
// root may use (--lmtp-socket-mode 0600) Postfix gets "Permission denied"
// and defers, the failure operators met; with the default mode the same
// message is delivered on Postfix's retry and the reply is queued.
func TestPostfixLMTPUnixSocket(t *testing.T) {
	sock := filepath.Join(peertest.SharedDir(t, "vacationd-e2e-sock-", 0o755), "lmtp.sock")
	pf := peertest.StartPostfix(t, startTimeout, "lmtp:unix:"+sock)
	scripts := onceScripts(t)

	v := startVacationd(t, nil, "--scripts", scripts, "--lmtp", "unix:"+sock, "--lmtp-socket-mode", "0600")
	from := "alice@example.org"
	if out, err := swaks(t, "--server", pf.Addr, "--helo", "client.example.org", "--from", from,
		"--to", "bob@example.com", "--data", "@"+writeFile(t, "msg.eml", message(from, "pf-1"))); err != nil {
		t.Fatalf("swaks to Postfix: %v\n%s", err, out)
	}
	peertest.WaitFor(t, arriveTimeout, "Postfix deferring on Permission denied", func() bool {
		return findLine(pf.Log(), "status=deferred", "Permission denied") != ""
	})
	v.stop()

	w := startVacationd(t, nil, "--scripts", scripts, "--lmtp", "unix:"+sock, "--data", v.data)
	pf.Flush(t)
	peertest.WaitFor(t, arriveTimeout, "Postfix delivering over the socket", func() bool {
		return findLine(pf.Log(), "postfix/lmtp", "status=sent") != ""
	})
	line := w.waitLog("rcpt=bob@example.com", "vacation=queued")
	if !strings.Contains(line, "uid=") {
		t.Errorf("delivery line does not name the socket's client: %s", line)
	}
}
