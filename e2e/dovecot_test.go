//go:build e2e

package e2e

import (
	"fmt"
	"net"
	"os"
	"os/user"
	"path/filepath"
	"strings"
	"testing"
)

// startDovecot runs a Dovecot LMTP server on a unix socket with two
// passwd-file users: bob, who can be stored, and broken, whose home cannot
// hold a Maildir (Dovecot answers 451 for him). It returns the socket and
// bob's Maildir. It skips unless Dovecot's LMTP is installed and the test
// runs as root (Dovecot drops to its users).
func startDovecot(t *testing.T) (sock, bobMaildir string) {
	t.Helper()
	bin := tool(t, "dovecot", "dovecot-core")
	if _, err := os.Stat("/usr/lib/dovecot/lmtp"); err != nil {
		t.Skip("/usr/lib/dovecot/lmtp not found (install the Debian package dovecot-lmtpd); skipping")
	}
	if os.Geteuid() != 0 {
		t.Skip("Dovecot needs root to switch to its users; skipping")
	}
	var uid, gid int
	for _, name := range []string{"dovecot", "dovenull", "nobody"} {
		u, err := user.Lookup(name)
		if err != nil {
			t.Skipf("user %s missing; skipping", name)
		}
		if name == "nobody" {
			fmt.Sscan(u.Uid, &uid)
			fmt.Sscan(u.Gid, &gid)
		}
	}
	// Dovecot's processes run as other users: the directory must be
	// reachable by them, unlike t.TempDir's.
	dir, err := os.MkdirTemp("", "vacationd-e2e-dovecot-")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(dir) })
	os.Chmod(dir, 0o755)
	for _, d := range []string{"run", "state", "log", "home/bob", "home/broken"} {
		if err := os.MkdirAll(filepath.Join(dir, d), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	if err := os.Chown(filepath.Join(dir, "home/bob"), uid, gid); err != nil {
		t.Fatal(err)
	}
	os.Chmod(filepath.Join(dir, "home/broken"), 0o555) // root-owned: no Maildir for nobody
	users := fmt.Sprintf("bob@example.com:{PLAIN}x:%[1]d:%[2]d::%[3]s/home/bob::\nbroken@example.com:{PLAIN}x:%[1]d:%[2]d::%[3]s/home/broken::\n",
		uid, gid, dir)
	sock = filepath.Join(dir, "lmtp.sock")
	conf := fmt.Sprintf(`base_dir = %[1]s/run
state_dir = %[1]s/state
log_path = %[1]s/log/dovecot.log
instance_name = vacationd-e2e-%[2]d
protocols = lmtp
listen = 127.0.0.1
ssl = no
hostname = store.example.com
postmaster_address = postmaster@example.com
default_internal_user = dovecot
default_login_user = dovenull
mail_location = maildir:~/Maildir
first_valid_uid = 1
passdb {
  driver = passwd-file
  args = %[1]s/users
}
userdb {
  driver = passwd-file
  args = %[1]s/users
}
service lmtp {
  unix_listener %[3]s {
    mode = 0666
  }
}
`, dir, os.Getpid(), sock)
	for name, body := range map[string]string{"users": users, "dovecot.conf": conf} {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	p := startProc(t, "dovecot", nil, nil, bin, "-F", "-c", filepath.Join(dir, "dovecot.conf"))
	t.Cleanup(func() {
		if t.Failed() {
			log, _ := os.ReadFile(filepath.Join(dir, "log/dovecot.log"))
			t.Logf("--- dovecot.log:\n%s", log)
		}
	})
	waitFor(t, startTimeout, "Dovecot LMTP on "+sock, func() bool {
		if p.exited() {
			t.Fatalf("dovecot exited: %v\n%s", p.err, p.out.String())
		}
		c, err := net.Dial("unix", sock)
		if err != nil {
			return false
		}
		c.Close()
		return true
	})
	return sock, filepath.Join(dir, "home/bob/Maildir")
}

// TestDovecotDownstream: vacationd in front of a real Dovecot LMTP. Bob's
// message is stored in his Maildir (with vacationd's Received field) and
// his vacation reply reaches the sink; the recipient Dovecot cannot store
// gets Dovecot's 451, and only that one.
func TestDovecotDownstream(t *testing.T) {
	t.Parallel()
	sock, maildir := startDovecot(t)
	sk := startSink(t, "")
	scripts := scriptsDir(t, map[string]string{"example.com/bob.sieve": onceScript})
	v := startVacationd(t, nil, append([]string{"--scripts", scripts, "--relay", sk.addr,
		"--deliver-to", "lmtp:unix:" + sock}, relayFlags...)...)

	got := lmtpSend(t, v.lmtp, "alice@example.org", []string{"bob@example.com", "broken@example.com"},
		[]byte(strings.Replace(string(message("alice@example.org", "dovecot-1")), "To: Bob <bob@example.com>",
			"To: Bob <bob@example.com>, broken@example.com", 1)))
	if got["bob@example.com"] != 250 || got["broken@example.com"] != 451 {
		t.Fatalf("per-recipient replies %v, want bob 250 and broken 451", got)
	}
	files, _ := filepath.Glob(filepath.Join(maildir, "new", "*"))
	if len(files) != 1 {
		t.Fatalf("%d messages in bob's Maildir, want 1", len(files))
	}
	stored, _ := os.ReadFile(files[0])
	if !strings.Contains(string(stored), "by mx.example.com (vacationd) with LMTP") || !strings.Contains(string(stored), "Message-ID: <dovecot-1@example.org>") {
		t.Errorf("stored message lacks vacationd's Received field or the original header:\n%s", stored)
	}
	sk.waitCount(t, 1)
	if m := sk.mails(t)[0]; m.mailFrom != "<>" || len(m.rcpts) != 1 || m.rcpts[0] != "<alice@example.org>" {
		t.Errorf("reply envelope: MAIL FROM %s RCPT TO %v, want <> to <alice@example.org>", m.mailFrom, m.rcpts)
	}
}
