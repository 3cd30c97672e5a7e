package transport

import (
	"context"
	"fmt"
	"net"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// TestDovecotForwarder forwards to a real Dovecot LMTP server where one
// user can be stored (250), one has a broken home (451) and one does not
// exist (550). It needs root and the dovecot-lmtpd package; it skips
// otherwise.
func TestDovecotForwarder(t *testing.T) {
	bin, err := exec.LookPath("dovecot")
	if err != nil {
		t.Skip("dovecot not installed; skipping the Dovecot interop test")
	}
	if _, err := os.Stat("/usr/lib/dovecot/lmtp"); err != nil {
		t.Skip("dovecot-lmtpd not installed; skipping the Dovecot interop test")
	}
	if os.Geteuid() != 0 {
		t.Skip("Dovecot needs root to drop to its users; skipping the Dovecot interop test")
	}
	for _, u := range []string{"dovecot", "dovenull", "nobody"} {
		if _, err := user.Lookup(u); err != nil {
			t.Skipf("user %s missing; skipping the Dovecot interop test", u)
		}
	}
	dir := sharedTempDir(t) // Dovecot's processes run as other users
	os.Chmod(dir, 0o755)
	for _, d := range []string{"run", "state", "log", "home/alice", "home/broken"} {
		if err := os.MkdirAll(filepath.Join(dir, d), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	nobody, _ := user.Lookup("nobody")
	var uid, gid int
	fmt.Sscan(nobody.Uid, &uid)
	fmt.Sscan(nobody.Gid, &gid)
	if err := os.Chown(filepath.Join(dir, "home/alice"), uid, gid); err != nil {
		t.Fatal(err)
	}
	os.Chmod(filepath.Join(dir, "home/broken"), 0o555) // no Maildir can be made there
	users := fmt.Sprintf("alice@example.com:{PLAIN}x:%d:%d::%s/home/alice::\nbroken@example.com:{PLAIN}x:%d:%d::%s/home/broken::\n",
		uid, gid, dir, uid, gid, dir)
	sock := filepath.Join(dir, "lmtp.sock")
	conf := fmt.Sprintf(`base_dir = %[1]s/run
state_dir = %[1]s/state
log_path = %[1]s/log/dovecot.log
instance_name = vacationd-test-%[2]d
protocols = lmtp
listen = 127.0.0.1
ssl = no
hostname = mx.example.com
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
	if err := os.WriteFile(filepath.Join(dir, "users"), []byte(users), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "dovecot.conf"), []byte(conf), 0o644); err != nil {
		t.Fatal(err)
	}
	var out syncBuffer
	cmd := exec.Command(bin, "-F", "-c", filepath.Join(dir, "dovecot.conf"))
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		cmd.Process.Signal(os.Interrupt)
		done := make(chan struct{})
		go func() { cmd.Wait(); close(done) }()
		select {
		case <-done:
		case <-time.After(5 * time.Second):
			cmd.Process.Kill()
			<-done
		}
		if t.Failed() {
			log, _ := os.ReadFile(filepath.Join(dir, "log/dovecot.log"))
			t.Logf("dovecot output:\n%s\n%s", out.String(), log)
		}
	})
	waitFor(t, func() bool { // the socket file appears before it listens
		c, err := net.Dial("unix", sock)
		if err == nil {
			c.Close()
		}
		return err == nil
	})

	f := newTestForwarder(t, "lmtp:unix:"+sock)
	msg := "From: s@example.org\r\nTo: alice@example.com\r\nSubject: to dovecot\r\nMessage-ID: <fwd-1@example.org>\r\n\r\nhello\r\n"
	got := f.Forward(context.Background(), "s@example.org", []Recipient{
		{Addr: "alice@example.com"}, {Addr: "broken@example.com"}, {Addr: "nobody@example.com"},
	}, "Received: from client.test by mx.test with LMTP;\r\n\tThu, 26 Nov 2026 21:00:00 +0000\r\n", []byte(msg))
	if codes := fmt.Sprint(got[0].Code, got[1].Code, got[2].Code); codes != "250 451 550" {
		t.Fatalf("codes %s, want 250 451 550: %v", codes, got)
	}
	files, _ := filepath.Glob(filepath.Join(dir, "home/alice/Maildir/new/*"))
	if len(files) != 1 {
		t.Fatalf("%d messages in alice's Maildir, want 1", len(files))
	}
	stored, _ := os.ReadFile(files[0])
	if !strings.Contains(string(stored), "Received: from client.test by mx.test") || !strings.Contains(string(stored), "\nhello") {
		t.Errorf("stored message:\n%s", stored)
	}
}
