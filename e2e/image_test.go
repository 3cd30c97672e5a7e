//go:build e2e

package e2e

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/vacationd/vacationd/internal/mailutest"
	"github.com/vacationd/vacationd/internal/peertest"
)

// podman runs podman with runc (Debian's) and a CONTAINERS_CONF whose
// ulimits these machines allow.
type podman struct {
	t    *testing.T
	conf string
}

func newPodman(t *testing.T) *podman {
	t.Helper()
	if _, err := exec.LookPath("podman"); err != nil {
		t.Skip("podman not found (Debian package podman): skipping the image test")
	}
	if _, err := exec.LookPath("runc"); err != nil {
		if _, err := os.Stat("/usr/sbin/runc"); err != nil {
			t.Skip("runc not found (Debian package runc): skipping the image test")
		}
	}
	p := &podman{t: t, conf: writeFile(t, "containers.conf",
		[]byte("[containers]\ndefault_ulimits = [\"nofile=4096:4096\", \"nproc=4096:4096\"]\n"))}
	if out, err := p.cmd(time.Minute, "info"); err != nil {
		t.Skipf("podman cannot run here: %v\n%s", err, out)
	}
	return p
}

func (p *podman) cmd(timeout time.Duration, args ...string) (string, error) {
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	c := exec.CommandContext(ctx, "podman", append([]string{"--runtime", "runc"}, args...)...)
	c.Env = append(os.Environ(), "CONTAINERS_CONF="+p.conf)
	out, err := c.CombinedOutput()
	return string(out), err
}

// TestImage builds localhost/vacationd:latest with `make image` and runs
// it with the Mailu profile against the fake admin, an LMTP sink standing
// for Dovecot and an SMTP sink standing for Mailu's smtp.
func TestImage(t *testing.T) {
	p := newPodman(t)
	mk := exec.Command("make", "image", "PODMAN_FLAGS=--runtime runc")
	mk.Dir = ".."
	mk.Env = append(os.Environ(), "CONTAINERS_CONF="+p.conf)
	if out, err := mk.CombinedOutput(); err != nil {
		t.Fatalf("make image: %v\n%s", err, out)
	}
	if out, err := p.cmd(time.Minute, "image", "inspect", "--format", "{{.Config.User}} {{.Config.Cmd}} {{.Config.Volumes}} {{.Config.Healthcheck.Test}}", "localhost/vacationd:latest"); err != nil ||
		!strings.Contains(out, "65532:65532 [serve --mailu] map[/data:{}] [CMD /usr/local/bin/vacationd health]") {
		t.Errorf("image config: %v %q; want non-root, serve --mailu, /data, the health check", err, out)
	}

	admin := mailutest.Start(t, "../../shared/mailu/admin")
	dovecot := peertest.StartSink(t, startTimeout, "", "-L") // LMTP
	smtp := peertest.StartSink(t, startTimeout, "")
	lmtp, httpAddr := peertest.FreeAddr(t), peertest.FreeAddr(t)
	name := fmt.Sprintf("vacationd-e2e-%d", os.Getpid())
	out, err := p.cmd(2*time.Minute, "run", "-d", "--rm", "--network=host", "--name", name,
		"-e", "HOSTNAMES=mx.example.test", "-e", "DOMAIN=example.test", "-e", "SUBNET=127.0.0.0/8",
		"-e", "LOG_LEVEL=INFO", "-e", "VACATIOND_HTTP="+httpAddr,
		"localhost/vacationd:latest", "serve", "--mailu", "--mailu-admin", admin.URL(), "--lmtp", lmtp,
		"--deliver-to", "lmtp:"+dovecot.Addr, "--relay", smtp.Addr, "--submission", peertest.FreeAddr(t))
	if err != nil {
		t.Fatalf("podman run: %v\n%s", err, out)
	}
	t.Cleanup(func() {
		if out, err := p.cmd(time.Minute, "rm", "-f", name); err != nil {
			t.Logf("podman rm: %v\n%s", err, out)
		}
	})
	logs := func() string { o, _ := p.cmd(time.Minute, "logs", name); return o }
	peertest.WaitFor(t, startTimeout, "vacationd health in the container", func() bool {
		_, err := p.cmd(time.Minute, "exec", name, "/usr/local/bin/vacationd", "health")
		return err == nil
	})
	st := lmtpSend(t, lmtp, "henry@internet.example", []string{"bob@example.test"},
		[]byte("From: henry@internet.example\r\nTo: bob@example.test\r\nSubject: to the container\r\nMessage-ID: <img1@internet.example>\r\n\r\nhi\r\n"))
	if st["bob@example.test"] != 250 {
		t.Fatalf("LMTP to the container: %v\n%s", st, logs())
	}
	peertest.WaitFor(t, arriveTimeout, "the reply at the smtp sink", func() bool { return len(smtp.Mails(t)) == 1 })
	if m := smtp.Mails(t)[0]; m.MailFrom != "<bob@example.test>" || !strings.Contains(m.Text, "Subject: Auto: to the container") {
		t.Errorf("reply: %s", m.Text)
	}
	if n := len(dovecot.Mails(t)); n != 1 {
		t.Errorf("%d messages at the LMTP sink, want 1\n%s", n, logs())
	}
}
