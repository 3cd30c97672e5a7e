package peertest

import (
	"fmt"
	"os"
	"os/user"
	"path/filepath"
	"testing"
	"time"
)

// Dovecot is a Dovecot LMTP server on the unix socket Sock, with
// passwd-file users alice@example.com and bob@example.com, who can be
// stored, and broken@example.com, whose home cannot hold a Maildir
// (Dovecot answers 451 for him). Anyone else is unknown (550).
type Dovecot struct {
	Sock, Dir string
}

// Maildir is the Maildir of the user local@example.com.
func (d *Dovecot) Maildir(local string) string {
	return filepath.Join(d.Dir, "home", local, "Maildir")
}

// StartDovecot runs Dovecot and waits up to start for its LMTP socket to
// accept connections; it is stopped with SIGINT at the end of the test. It
// skips unless Dovecot's LMTP (Debian packages dovecot-core and
// dovecot-lmtpd) is installed and the test runs as root (Dovecot drops to
// its users).
func StartDovecot(t testing.TB, start time.Duration) *Dovecot {
	t.Helper()
	bin := Tool(t, "dovecot", "dovecot-core")
	if _, err := os.Stat("/usr/lib/dovecot/lmtp"); err != nil {
		Missing(t, "/usr/lib/dovecot/lmtp not found (install the Debian package dovecot-lmtpd)")
	}
	if os.Geteuid() != 0 {
		Missing(t, "Dovecot needs root to switch to its users")
	}
	var uid, gid int
	for _, name := range []string{"dovecot", "dovenull", "nobody"} {
		u, err := user.Lookup(name)
		if err != nil {
			Missing(t, "user %s missing (the Debian package dovecot-core creates it)", name)
		}
		if name == "nobody" {
			fmt.Sscan(u.Uid, &uid)
			fmt.Sscan(u.Gid, &gid)
		}
	}
	// Dovecot's processes run as other users: the directory must be
	// reachable by them, unlike t.TempDir's.
	dir := SharedDir(t, "vacationd-peertest-dovecot-", 0o755)
	for _, d := range []string{"run", "state", "log", "home/alice", "home/bob", "home/broken"} {
		if err := os.MkdirAll(filepath.Join(dir, d), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	var users string
	for _, local := range []string{"alice", "bob"} {
		if err := os.Chown(filepath.Join(dir, "home", local), uid, gid); err != nil {
			t.Fatal(err)
		}
		users += fmt.Sprintf("%s@example.com:{PLAIN}x:%d:%d::%s/home/%[1]s::\n", local, uid, gid, dir)
	}
	os.Chmod(filepath.Join(dir, "home/broken"), 0o555) // root-owned: no Maildir for nobody
	users += fmt.Sprintf("broken@example.com:{PLAIN}x:%d:%d::%s/home/broken::\n", uid, gid, dir)
	d := &Dovecot{Sock: filepath.Join(dir, "lmtp.sock"), Dir: dir}
	conf := fmt.Sprintf(`base_dir = %[1]s/run
state_dir = %[1]s/state
log_path = %[1]s/log/dovecot.log
instance_name = vacationd-peertest-%[2]d
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
`, dir, os.Getpid(), d.Sock)
	for name, body := range map[string]string{"users": users, "dovecot.conf": conf} {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	p := StartProc(t, "dovecot", nil, nil, bin, "-F", "-c", filepath.Join(dir, "dovecot.conf"))
	t.Cleanup(func() { // before StartProc's kill: let the master stop its children
		p.Stop(os.Interrupt, 5*time.Second)
		if t.Failed() {
			log, _ := os.ReadFile(filepath.Join(dir, "log/dovecot.log"))
			t.Logf("--- dovecot.log:\n%s", log)
		}
	})
	// The socket file appears before Dovecot listens on it.
	p.WaitDial(t, start, "unix", d.Sock)
	return d
}
