package peertest

import (
	"context"
	"fmt"
	"net"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
)

// Postfix is a private Postfix instance: its own configuration, queue and
// log under Dir, smtpd on Addr (127.0.0.1), relaying mail for example.com
// through the transport given to StartPostfix. Nothing outside Dir is
// touched; the system's Postfix, if any, keeps running.
type Postfix struct {
	Dir, Addr string
	bin       string
}

// StartPostfix starts Postfix (postfix -c DIR start: its master runs as a
// daemon) with relay_transport set to transport, e.g.
// "lmtp:unix:/path/lmtp.sock", and waits up to start for smtpd to listen.
// It is stopped (postfix stop, then its master killed) at the end of the
// test. It needs the Debian package postfix and root (Postfix's daemons
// drop to the user postfix).
func StartPostfix(t testing.TB, start time.Duration, transport string) *Postfix {
	t.Helper()
	bin := Tool(t, "postfix", "postfix")
	if os.Geteuid() != 0 {
		Missing(t, "Postfix needs root to start its daemons")
	}
	pu, err := user.Lookup("postfix")
	if err != nil {
		Missing(t, "user postfix missing (the Debian package postfix creates it): %v", err)
	}
	uid, _ := strconv.Atoi(pu.Uid)
	// Postfix's daemons run as postfix: the directory must be reachable.
	dir := SharedDir(t, "vacationd-peertest-postfix-", 0o755)
	conf, queue, data := filepath.Join(dir, "conf"), filepath.Join(dir, "queue"), filepath.Join(dir, "data")
	for _, d := range []string{conf, queue, data} {
		if err := os.MkdirAll(d, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	if err := os.Chown(data, uid, -1); err != nil {
		t.Fatal(err)
	}
	addr := FreeAddr(t)
	mainCF := strings.Join([]string{
		"compatibility_level = 3.6",
		"queue_directory = " + queue,
		"data_directory = " + data,
		"mail_owner = postfix",
		"setgid_group = postdrop",
		"inet_interfaces = 127.0.0.1",
		"inet_protocols = ipv4",
		"myhostname = mx.example.com",
		"mydestination =",
		"relay_domains = example.com",
		"mynetworks = 127.0.0.0/8",
		"smtpd_relay_restrictions = permit_mynetworks, reject",
		"default_transport = error:only example.com is served here",
		"relay_transport = " + transport,
		"maillog_file = " + filepath.Join(dir, "maillog"),
		"maillog_file_prefixes = " + dir,
		"biff = no",
		// Quick retries of deferred mail (postqueue -f also flushes).
		"queue_run_delay = 1s",
		"minimal_backoff_time = 1s",
		"maximal_backoff_time = 2s",
	}, "\n") + "\n"
	// No chroot: the LMTP socket is an absolute path outside the queue.
	masterCF := addr + " inet n - n - - smtpd\n" + `pickup    unix  n - n 60 1 pickup
cleanup   unix  n - n - 0 cleanup
qmgr      unix  n - n 300 1 qmgr
rewrite   unix  - - n - - trivial-rewrite
bounce    unix  - - n - 0 bounce
defer     unix  - - n - 0 bounce
trace     unix  - - n - 0 bounce
verify    unix  - - n - 1 verify
flush     unix  n - n 1000? 0 flush
proxymap  unix  - - n - - proxymap
showq     unix  n - n - - showq
error     unix  - - n - - error
retry     unix  - - n - - error
lmtp      unix  - - n - - lmtp
anvil     unix  - - n - 1 anvil
scache    unix  - - n - 1 scache
postlog   unix-dgram n - n - 1 postlogd
`
	for name, text := range map[string]string{"main.cf": mainCF, "master.cf": masterCF} {
		if err := os.WriteFile(filepath.Join(conf, name), []byte(text), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	p := &Postfix{Dir: dir, Addr: addr, bin: bin}
	if out, err := p.run(start, "start"); err != nil {
		t.Fatalf("postfix start: %v\n%s\n%s", err, out, p.Log())
	}
	t.Cleanup(p.stop)
	WaitFor(t, start, "Postfix's smtpd on "+addr, func() bool {
		c, err := net.DialTimeout("tcp", addr, time.Second)
		if err != nil {
			return false
		}
		c.Close()
		return true
	})
	return p
}

// run runs the postfix command on this instance. Its output goes to a
// file, not a pipe: the master daemon it starts must not hold our pipe.
func (p *Postfix) run(timeout time.Duration, args ...string) (string, error) {
	f, err := os.CreateTemp(p.Dir, "postfix-cmd-")
	if err != nil {
		return "", err
	}
	defer os.Remove(f.Name())
	defer f.Close()
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	cmd := exec.CommandContext(ctx, p.bin, append([]string{"-c", filepath.Join(p.Dir, "conf")}, args...)...)
	cmd.Stdout, cmd.Stderr = f, f
	err = cmd.Run()
	out, _ := os.ReadFile(f.Name())
	return string(out), err
}

// stop stops the instance; a master that outlives postfix stop is killed
// by the pid in its queue directory.
func (p *Postfix) stop() {
	p.run(20*time.Second, "stop")
	b, err := os.ReadFile(filepath.Join(p.Dir, "queue", "pid", "master.pid"))
	if err != nil {
		return
	}
	if pid, err := strconv.Atoi(strings.TrimSpace(string(b))); err == nil && pid > 1 {
		if syscall.Kill(pid, 0) == nil {
			syscall.Kill(pid, syscall.SIGKILL)
		}
	}
}

// Log returns Postfix's log so far.
func (p *Postfix) Log() string {
	b, _ := os.ReadFile(filepath.Join(p.Dir, "maillog"))
	return string(b)
}

// Flush asks Postfix to retry its deferred mail now (postqueue -f).
func (p *Postfix) Flush(t testing.TB) {
	t.Helper()
	bin := Tool(t, "postqueue", "postfix")
	if out, err := RunCmd(t, 10*time.Second, bin, "-c", filepath.Join(p.Dir, "conf"), "-f"); err != nil {
		t.Fatalf("postqueue -f: %v\n%s", err, out)
	}
}

// String names the instance in failure messages.
func (p *Postfix) String() string { return fmt.Sprintf("postfix at %s (%s)", p.Addr, p.Dir) }
