package peertest

import (
	"fmt"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"testing"
	"time"
)

// Doveadm is a Dovecot serving only its doveadm HTTP API, for the user
// bob@example.com (Maildir, "/" separator, \Junk and \Sent special uses
// configured, a file dict for METADATA).
type Doveadm struct {
	URL, APIKey string
	conf        string
}

// Run runs the doveadm command line against this Dovecot (e.g.
// "mailbox", "create", "-u", "bob@example.com", "Archive").
func (d *Doveadm) Run(t testing.TB, args ...string) {
	t.Helper()
	out, err := exec.Command("doveadm", append([]string{"-c", d.conf}, args...)...).CombinedOutput()
	if err != nil {
		t.Fatalf("doveadm %v: %v\n%s", args, err, out)
	}
}

// StartDoveadm runs Dovecot with its doveadm HTTP listener on a free port
// and waits up to start for it; it skips (fails in CI) unless Dovecot
// (Debian dovecot-core) is installed and the test runs as root.
func StartDoveadm(t testing.TB, start time.Duration) *Doveadm {
	t.Helper()
	bin := Tool(t, "dovecot", "dovecot-core")
	Tool(t, "doveadm", "dovecot-core")
	if os.Geteuid() != 0 {
		Missing(t, "Dovecot needs root to switch to its users")
	}
	u, err := user.Lookup("nobody")
	if err != nil {
		Missing(t, "user nobody missing")
	}
	for _, name := range []string{"dovecot", "dovenull"} {
		if _, err := user.Lookup(name); err != nil {
			Missing(t, "user %s missing (the Debian package dovecot-core creates it)", name)
		}
	}
	var uid, gid int
	fmt.Sscan(u.Uid, &uid)
	fmt.Sscan(u.Gid, &gid)
	dir := SharedDir(t, "vacationd-peertest-doveadm-", 0o755)
	for _, d := range []string{"run", "state", "log", "home/bob"} {
		if err := os.MkdirAll(filepath.Join(dir, d), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	if err := os.Chown(filepath.Join(dir, "home/bob"), uid, gid); err != nil {
		t.Fatal(err)
	}
	addr := FreeAddr(t)
	host, port := addr, ""
	for i := len(addr) - 1; i >= 0; i-- {
		if addr[i] == ':' {
			host, port = addr[:i], addr[i+1:]
			break
		}
	}
	d := &Doveadm{URL: "http://" + addr + "/doveadm/v1", APIKey: "peertest-key", conf: filepath.Join(dir, "dovecot.conf")}
	users := fmt.Sprintf("bob@example.com:{PLAIN}x:%d:%d::%s/home/bob::\n", uid, gid, dir)
	conf := fmt.Sprintf(`base_dir = %[1]s/run
state_dir = %[1]s/state
log_path = %[1]s/log/dovecot.log
instance_name = vacationd-peertest-doveadm-%[2]d
protocols =
listen = %[3]s
ssl = no
default_internal_user = dovecot
default_login_user = dovenull
mail_location = maildir:~/Maildir
mail_attribute_dict = file:%%h/Maildir/dovecot-attributes
first_valid_uid = 1
doveadm_api_key = %[5]s
passdb {
  driver = passwd-file
  args = %[1]s/users
}
userdb {
  driver = passwd-file
  args = %[1]s/users
}
namespace inbox {
  inbox = yes
  separator = /
  mailbox Junk {
    special_use = \Junk
  }
  mailbox Sent {
    special_use = \Sent
  }
}
service doveadm {
  inet_listener http {
    address = %[3]s
    port = %[4]s
  }
}
`, dir, os.Getpid(), host, port, d.APIKey)
	for name, body := range map[string]string{"users": users, "dovecot.conf": conf} {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	p := StartProc(t, "dovecot", nil, nil, bin, "-F", "-c", d.conf)
	t.Cleanup(func() {
		p.Stop(os.Interrupt, 5*time.Second)
		if t.Failed() {
			log, _ := os.ReadFile(filepath.Join(dir, "log/dovecot.log"))
			t.Logf("--- dovecot.log:\n%s", log)
		}
	})
	p.WaitDial(t, start, "tcp", addr)
	return d
}
