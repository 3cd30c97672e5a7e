package peertest

import (
	"fmt"
	"os"
	"os/user"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// DovecotSieve is a private Dovecot running Pigeonhole's managesieved on
// Addr (plain text allowed, no TLS) and its auth service on the
// auth-client socket AuthSocket, with the passwd-file users it was
// started with (SHA512-CRYPT hashes made by doveadm pw).
type DovecotSieve struct {
	Addr, AuthSocket, Dir string
}

// StartDovecotSieve runs Dovecot with managesieved for users (name ->
// password) and waits up to start for it to listen; it is stopped at the
// end of the test. It skips unless dovecot-core and dovecot-managesieved
// are installed and the test runs as root. Failed logins are not delayed
// (auth_failure_delay = 0), so tests stay fast.
func StartDovecotSieve(t testing.TB, start time.Duration, users map[string]string) *DovecotSieve {
	t.Helper()
	bin := Tool(t, "dovecot", "dovecot-core")
	doveadm := Tool(t, "doveadm", "dovecot-core")
	if _, err := os.Stat("/usr/lib/dovecot/managesieve"); err != nil {
		Missing(t, "/usr/lib/dovecot/managesieve not found (install the Debian package dovecot-managesieved)")
	}
	if os.Geteuid() != 0 {
		Missing(t, "Dovecot needs root to switch to its users")
	}
	nobody, err := user.Lookup("nobody")
	if err != nil {
		Missing(t, "user nobody missing")
	}
	dir := SharedDir(t, "vacationd-peertest-sieve-", 0o755)
	for _, d := range []string{"run", "state", "home"} {
		if err := os.MkdirAll(filepath.Join(dir, d), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	addr := FreeAddr(t)
	_, port, _ := strings.Cut(addr, ":")
	conf := fmt.Sprintf(`base_dir = %[1]s/run
state_dir = %[1]s/state
log_path = %[1]s/dovecot.log
instance_name = vacationd-peertest-sieve-%[2]d
protocols = sieve
listen = 127.0.0.1
ssl = no
disable_plaintext_auth = no
auth_mechanisms = plain login
auth_failure_delay = 0
default_internal_user = dovecot
default_login_user = dovenull
first_valid_uid = 1
mail_uid = %[3]s
mail_gid = %[4]s
mail_location = maildir:~/Maildir
passdb {
  driver = passwd-file
  args = scheme=SHA512-CRYPT %[1]s/users
}
userdb {
  driver = static
  args = uid=%[3]s gid=%[4]s home=%[1]s/home/%%u
}
plugin {
  sieve = file:~/sieve;active=~/.dovecot.sieve
}
service managesieve-login {
  inet_listener sieve {
    address = 127.0.0.1
    port = %[5]s
  }
}
`, dir, os.Getpid(), nobody.Uid, nobody.Gid, port)
	conffile := filepath.Join(dir, "dovecot.conf")
	if err := os.WriteFile(conffile, []byte(conf), 0o644); err != nil {
		t.Fatal(err)
	}
	var pw strings.Builder
	for u, p := range users {
		hash, err := RunCmd(t, 10*time.Second, doveadm, "-c", conffile, "pw", "-s", "SHA512-CRYPT", "-p", p)
		if err != nil {
			t.Fatalf("doveadm pw: %v: %s", err, hash)
		}
		fmt.Fprintf(&pw, "%s:%s::::::\n", u, strings.TrimSpace(hash))
		home := filepath.Join(dir, "home", u)
		os.MkdirAll(home, 0o755)
		os.Chown(home, atoi(nobody.Uid), atoi(nobody.Gid))
	}
	if err := os.WriteFile(filepath.Join(dir, "users"), []byte(pw.String()), 0o644); err != nil {
		t.Fatal(err)
	}
	p := StartProc(t, "dovecot", nil, nil, bin, "-F", "-c", conffile)
	t.Cleanup(func() {
		p.Stop(os.Interrupt, 5*time.Second)
		if t.Failed() {
			log, _ := os.ReadFile(filepath.Join(dir, "dovecot.log"))
			t.Logf("--- dovecot.log:\n%s", log)
		}
	})
	d := &DovecotSieve{Addr: addr, AuthSocket: filepath.Join(dir, "run", "auth-client"), Dir: dir}
	p.WaitDial(t, start, "tcp", addr)
	p.WaitDial(t, start, "unix", d.AuthSocket)
	return d
}

func atoi(s string) int {
	var n int
	fmt.Sscan(s, &n)
	return n
}
