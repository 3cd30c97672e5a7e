//go:build e2e

package e2e

import (
	"net/http"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/vacationd/vacationd/internal/peertest"
)

// make runs a Makefile target of the repository with extra variables.
func makeTarget(t *testing.T, args ...string) string {
	t.Helper()
	make := peertest.Tool(t, "make", "make")
	cmd := exec.Command(make, append([]string{"-C", ".."}, args...)...)
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("make %s: %v\n%s", strings.Join(args, " "), err, out)
	}
	return string(out)
}

// TestMakeInstall: make install puts the binary, the unit (pointing at the
// installed binary), the man page generated from the flags and the
// default config under DESTDIR, and keeps an existing config.
func TestMakeInstall(t *testing.T) {
	dest := t.TempDir()
	makeTarget(t, "install", "DESTDIR="+dest, "PREFIX=/usr/local")
	for _, f := range []string{
		"usr/local/bin/vacationd", "lib/systemd/system/vacationd.service",
		"usr/local/share/man/man8/vacationd.8.gz", "etc/vacationd/vacationd.toml",
		"usr/local/share/doc/vacationd/examples/vacation.sieve",
	} {
		if _, err := os.Stat(filepath.Join(dest, f)); err != nil {
			t.Errorf("make install: %v", err)
		}
	}
	unit, _ := os.ReadFile(filepath.Join(dest, "lib/systemd/system/vacationd.service"))
	if !strings.Contains(string(unit), "ExecStart=/usr/local/bin/vacationd serve --config /etc/vacationd/vacationd.toml") ||
		!strings.Contains(string(unit), "ExecReload=/bin/kill -HUP $MAINPID") {
		t.Errorf("unit:\n%s", unit)
	}
	cfg := filepath.Join(dest, "etc/vacationd/vacationd.toml")
	os.WriteFile(cfg, []byte("# mine\n"), 0o644)
	out := makeTarget(t, "install", "DESTDIR="+dest, "PREFIX=/usr/local")
	if b, _ := os.ReadFile(cfg); string(b) != "# mine\n" || !strings.Contains(out, "keeping the existing") {
		t.Errorf("a second make install replaced the config: %q\n%s", b, out)
	}
}

// TestDebianPackage: make deb builds a package that dpkg -i installs on
// this machine; the installed vacationd reports its version, checks the
// example script, reads the installed config, passes systemd-analyze
// verify, and serves as the vacationd user. The package is purged after.
func TestDebianPackage(t *testing.T) {
	dpkg := peertest.Tool(t, "dpkg", "dpkg")
	if os.Getuid() != 0 {
		peertest.Missing(t, "dpkg -i needs root")
	}
	if out, err := exec.Command("dpkg-query", "-W", "vacationd").CombinedOutput(); err == nil {
		t.Skipf("vacationd is already installed here (%s); not touching it", strings.TrimSpace(string(out)))
	}
	_, stateErr := os.Stat("/var/lib/vacationd")
	makeTarget(t, "deb")
	debs, _ := filepath.Glob("../dist/vacationd_*.deb")
	if len(debs) != 1 {
		t.Fatalf("make deb made %v", debs)
	}
	if out, err := exec.Command(dpkg, "-i", debs[0]).CombinedOutput(); err != nil {
		t.Fatalf("dpkg -i: %v\n%s", err, out)
	}
	t.Cleanup(func() {
		if out, err := exec.Command(dpkg, "--purge", "vacationd").CombinedOutput(); err != nil {
			t.Errorf("dpkg --purge: %v\n%s", err, out)
		}
		if os.IsNotExist(stateErr) {
			os.RemoveAll("/var/lib/vacationd")
		}
	})
	run := func(args ...string) string {
		t.Helper()
		out, err := exec.Command("/usr/bin/vacationd", args...).CombinedOutput()
		if err != nil {
			t.Fatalf("vacationd %s: %v\n%s", strings.Join(args, " "), err, out)
		}
		return string(out)
	}
	if v := run("version"); !strings.HasPrefix(v, "vacationd ") || !strings.Contains(v, "commit ") {
		t.Errorf("vacationd version: %q", v)
	}
	run("check", "/usr/share/doc/vacationd/examples/vacation.sieve")
	if c := run("check", "--config", "/etc/vacationd/vacationd.toml"); !strings.Contains(c, "configuration ok") {
		t.Errorf("check --config of the installed config: %q", c)
	}
	if c := run("config", "-n", "--config", "/etc/vacationd/vacationd.toml"); !strings.Contains(c, `data = "/var/lib/vacationd"`) {
		t.Errorf("installed config:\n%s", c)
	}
	if sa, err := exec.LookPath("systemd-analyze"); err == nil {
		if out, err := exec.Command(sa, "verify", "/lib/systemd/system/vacationd.service").CombinedOutput(); err != nil {
			t.Errorf("systemd-analyze verify: %v\n%s", err, out)
		}
	}
	if fi, err := os.Stat("/var/lib/vacationd/scripts"); err != nil || fi.Sys().(*syscall.Stat_t).Uid == 0 {
		t.Errorf("state directory not owned by vacationd: %v", err)
	}

	// Serve with the installed config as the vacationd user, on free ports.
	u, err := user.Lookup("vacationd")
	if err != nil {
		t.Fatalf("the package made no vacationd user: %v", err)
	}
	uid, _ := strconv.Atoi(u.Uid)
	gid, _ := strconv.Atoi(u.Gid)
	lmtp, web := peertest.FreeAddr(t), peertest.FreeAddr(t)
	cmd := exec.Command("/usr/bin/vacationd", "serve",
		"--config", "/etc/vacationd/vacationd.toml", "--lmtp", lmtp, "--http", web, "--relay", "", "--no-relay")
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true, Credential: &syscall.Credential{Uid: uint32(uid), Gid: uint32(gid)}}
	p := peertest.StartCmd(t, "installed vacationd", nil, cmd)
	peertest.WaitFor(t, startTimeout, "installed vacationd /healthz", func() bool {
		if p.Exited() {
			t.Fatalf("installed vacationd exited: %v\n%s", p.Err(), p.Out.String())
		}
		resp, err := http.Get("http://" + web + "/healthz")
		if err != nil {
			return false
		}
		resp.Body.Close()
		return resp.StatusCode == 200
	})
	if err := p.Stop(syscall.SIGTERM, 30*time.Second); err != nil {
		t.Errorf("stop: %v", err)
	}
}
