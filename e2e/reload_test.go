//go:build e2e

package e2e

import (
	"fmt"
	"os"
	"path/filepath"
	"syscall"
	"testing"
)

// TestReloadOnSIGHUP: kill -HUP of the real binary leaves it serving (no
// exit 129), with the new config file in effect: the scripts directory it
// names now answers with a vacation reply. A broken file is refused and
// the service keeps serving with the last good configuration.
func TestReloadOnSIGHUP(t *testing.T) {
	dir := t.TempDir()
	for name, text := range map[string]string{
		"keep/example.com/bob.sieve":  "keep;\n",
		"reply/example.com/bob.sieve": "require \"vacation\";\nvacation :days 1 \"Away.\";\n",
	} {
		p := filepath.Join(dir, name)
		os.MkdirAll(filepath.Dir(p), 0o755)
		os.WriteFile(p, []byte(text), 0o644)
	}
	cfg := filepath.Join(dir, "vacationd.toml")
	writeCfg := func(text string) {
		if err := os.WriteFile(cfg, []byte(text), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	writeCfg(fmt.Sprintf("scripts = %q\n", filepath.Join(dir, "keep")))
	v := startVacationd(t, nil, "--config", cfg)
	msg := func(id string) []byte {
		return []byte("From: alice@example.org\r\nTo: bob@example.com\r\nSubject: hi\r\nMessage-ID: <" + id + "@example.org>\r\n\r\nHi.\r\n")
	}
	deliverOne(t, v.lmtp, "alice@example.org", "bob@example.com", msg("1"))
	if n := v.metric("vacationd_outbox_depth"); n != 0 {
		t.Fatalf("outbox depth %v with the keep script", n)
	}

	hup := func(want string) {
		t.Helper()
		if err := v.p.Cmd.Process.Signal(syscall.SIGHUP); err != nil {
			t.Fatal(err)
		}
		v.waitLog(want)
		if v.p.Exited() {
			t.Fatalf("vacationd exited on SIGHUP: %v\n%s", v.p.Err(), v.logs())
		}
	}
	writeCfg(fmt.Sprintf("scripts = %q\nlog-level = \"debug\"\n", filepath.Join(dir, "reply")))
	hup("msg=reloaded")
	deliverOne(t, v.lmtp, "carol@example.org", "bob@example.com", msg("2"))
	v.waitMetric("vacationd_outbox_depth", 1)

	writeCfg("scripts = [\n")
	hup("reload refused")
	deliverOne(t, v.lmtp, "dave@example.org", "bob@example.com", msg("3"))
	v.waitMetric("vacationd_outbox_depth", 2)
	v.stop()
}
