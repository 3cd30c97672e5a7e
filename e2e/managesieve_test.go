//go:build e2e

package e2e

import (
	"context"
	"crypto/x509"
	"encoding/pem"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/vacationd/vacationd/internal/peertest"
)

// sieveUser and sievePass log in to the ManageSieve tests' services.
const (
	sieveUser = "alice@example.com"
	sievePass = "S3cret-pw"
)

// sha512CryptUsers writes a Dovecot passwd-file whose users have
// SHA512-CRYPT hashes made by `openssl passwd -6` (a tool vacationd's
// code has nothing to do with).
func sha512CryptUsers(t *testing.T, users map[string]string) string {
	t.Helper()
	openssl := peertest.Tool(t, "openssl", "openssl")
	var b strings.Builder
	for u, p := range users {
		hash, err := peertest.RunCmd(t, commandTimeout, openssl, "passwd", "-6", p)
		if err != nil {
			t.Fatalf("openssl passwd: %v: %s", err, hash)
		}
		b.WriteString(u + ":{SHA512-CRYPT}" + strings.TrimSpace(hash) + "::::::\n")
	}
	return writeFile(t, "users", []byte(b.String()))
}

// tlsFiles writes the test CA's server certificate and key as PEM files
// and returns their paths and the CA file.
func tlsFiles(t *testing.T) (cert, key, ca string) {
	t.Helper()
	cfg, ca := testCA(t)
	dir := t.TempDir()
	c := cfg.Certificates[0]
	kb, err := x509.MarshalPKCS8PrivateKey(c.PrivateKey)
	if err != nil {
		t.Fatal(err)
	}
	cert, key = filepath.Join(dir, "cert.pem"), filepath.Join(dir, "key.pem")
	os.WriteFile(cert, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: c.Certificate[0]}), 0o644)
	os.WriteFile(key, pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: kb}), 0o600)
	return cert, key, ca
}

// sieveConnect runs Debian's sieve-connect against addr over STARTTLS
// (verified with caFile) with PLAIN, the password on a pipe (--passwordfd),
// and returns its output.
func sieveConnect(t *testing.T, addr, caFile, user, pass string, args ...string) (string, error) {
	t.Helper()
	bin := peertest.Tool(t, "sieve-connect", "sieve-connect")
	host, port, _ := strings.Cut(addr, ":")
	r, w, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	w.WriteString(pass + "\n")
	w.Close()
	defer r.Close()
	ctx, cancel := context.WithTimeout(context.Background(), commandTimeout)
	defer cancel()
	cmd := exec.CommandContext(ctx, bin, append([]string{"-s", host, "-p", port, "-u", user, "--passwordfd", "3",
		"--tlscafile", caFile, "--tlshostname", "localhost", "--authmech", "PLAIN", "--noclearchan"}, args...)...)
	cmd.ExtraFiles = []*os.File{r}
	out, err := cmd.CombinedOutput()
	t.Logf("sieve-connect %s:\n%s", strings.Join(args, " "), out)
	return string(out), err
}

// toAlice is a message from sender to alice, who is in To: (vacation
// answers only mail addressed to the user).
func toAlice(from, id string) []byte {
	return []byte("From: <" + from + ">\r\nTo: Alice <alice@example.com>\r\nSubject: Question\r\n" +
		"Date: " + time.Now().UTC().Format(time.RFC1123Z) + "\r\nMessage-ID: <" + id + "@example.org>\r\n\r\nAre you there?\r\n")
}

// manageSieveService starts vacationd with ManageSieve (STARTTLS,
// passwd-file with SHA512-CRYPT users) relaying to a sink.
func manageSieveService(t *testing.T, extra ...string) (*vacationd, *peertest.Sink, string, string) {
	t.Helper()
	sk := peertest.StartSink(t, startTimeout, "")
	users := sha512CryptUsers(t, map[string]string{sieveUser: sievePass})
	cert, key, ca := tlsFiles(t)
	ms := peertest.FreeAddr(t)
	v := startVacationd(t, nil, append([]string{"--managesieve", ms, "--auth", "passwd-file:" + users,
		"--tls-cert", cert, "--tls-key", key, "--managesieve-auth-fail-delay", "10ms",
		"--relay", sk.Addr, "--relay-tls", "none"}, extra...)...)
	return v, sk, ms, ca
}

// TestManageSieveSieveConnect is the acceptance run with a real
// client: sieve-connect over STARTTLS with PLAIN uploads, checks a broken
// script, lists, activates and downloads; the next LMTP message gets the
// uploaded script's reply at the sink; a wrong password is refused;
// deactivating stops the replies.
func TestManageSieveSieveConnect(t *testing.T) {
	v, sk, ms, ca := manageSieveService(t)
	script := "require \"vacation\";\nvacation :days 1 :subject \"Gone fishing\" \"Back on Monday.\";\n"
	good := writeFile(t, "vacation.sieve", []byte(script))
	broken := writeFile(t, "broken.sieve", []byte("require \"vacation\";\nvacation :days \"x\";\nfoo;\n"))

	if _, err := sieveConnect(t, ms, ca, sieveUser, sievePass, "--upload", "--localsieve", good, "--remotesieve", "vacation"); err != nil {
		t.Fatalf("upload: %v", err)
	}
	out, err := sieveConnect(t, ms, ca, sieveUser, sievePass, "--checkscript", "--localsieve", broken)
	if err == nil || !strings.Contains(out, "line 3: error: unknown command 'foo'") || !strings.Contains(out, "error: validation failed.") {
		t.Errorf("CHECKSCRIPT of a broken script: err %v, output:\n%s", err, out)
	}
	if _, err := sieveConnect(t, ms, ca, sieveUser, sievePass, "--activate", "--remotesieve", "vacation"); err != nil {
		t.Fatalf("activate: %v", err)
	}
	if out, err := sieveConnect(t, ms, ca, sieveUser, sievePass, "--list"); err != nil || !strings.Contains(out, `"vacation" ACTIVE`) {
		t.Errorf("list: %v\n%s", err, out)
	}
	down := filepath.Join(t.TempDir(), "down.sieve")
	if _, err := sieveConnect(t, ms, ca, sieveUser, sievePass, "--download", "--remotesieve", "vacation", "--localsieve", down); err != nil {
		t.Fatalf("download: %v", err)
	}
	if b, _ := os.ReadFile(down); string(b) != script {
		t.Errorf("downloaded %q, want %q", b, script)
	}
	if out, err := sieveConnect(t, ms, ca, sieveUser, "wrong-password", "--list"); err == nil || !strings.Contains(out, "Authentication failed") {
		t.Errorf("wrong password: err %v\n%s", err, out)
	}

	deliverOne(t, v.lmtp, "carol@example.org", sieveUser, toAlice("carol@example.org", "m1"))
	sk.WaitCount(t, arriveTimeout, 1)
	var m peertest.SinkMail
	// smtp-sink writes its dump file as the data arrives: wait for all of it.
	peertest.WaitFor(t, arriveTimeout, "the whole reply at the sink", func() bool {
		m = sk.Mails(t)[0]
		return strings.Contains(m.Text, "Back on Monday.")
	})
	if m.MailFrom != "<>" || len(m.Rcpts) != 1 || m.Rcpts[0] != "<carol@example.org>" || !strings.Contains(m.Text, "Subject: Gone fishing") || !strings.Contains(m.Text, "Back on Monday.") {
		t.Errorf("reply at the sink: from %q rcpts %q:\n%s", m.MailFrom, m.Rcpts, m.Text)
	}

	if _, err := sieveConnect(t, ms, ca, sieveUser, sievePass, "--deactivate"); err != nil {
		t.Fatalf("deactivate: %v", err)
	}
	deliverOne(t, v.lmtp, "dave@example.org", sieveUser, toAlice("dave@example.org", "m2"))
	line := v.waitLog("msg=recipient", "from=dave@example.org")
	if !strings.Contains(line, "vacation=-") {
		t.Errorf("after deactivation: %s", line)
	}
	if n := sk.Count(t); n != 1 {
		t.Errorf("sink holds %d messages, want only the first reply", n)
	}
	if strings.Contains(v.logs(), sievePass) || strings.Contains(v.logs(), "wrong-password") {
		t.Error("a password reached the log")
	}
}

// TestManageSieveBehindHAProxy: with --managesieve-proxy required,
// sieve-connect works through HAProxy (send-proxy-v2, STARTTLS passing
// through), and a direct connection without a header is closed before the
// greeting.
func TestManageSieveBehindHAProxy(t *testing.T) {
	v, _, ms, ca := manageSieveService(t, "--managesieve-proxy", "required", "--proxy-trusted", "127.0.0.1/32", "--proxy-timeout", "500ms")
	front := peertest.StartHAProxy(t, startTimeout, peertest.HAProxy{Backend: ms, Server: "send-proxy-v2", ClientTimeout: haproxyClientTimeout})
	good := writeFile(t, "v.sieve", []byte("require \"vacation\";\nvacation \"away\";\n"))
	if out, err := sieveConnect(t, front, ca, sieveUser, sievePass, "--upload", "--localsieve", good, "--remotesieve", "v"); err != nil {
		t.Fatalf("through HAProxy: %v\n%s", err, out)
	}
	if out, err := sieveConnect(t, front, ca, sieveUser, sievePass, "--list"); err != nil || !strings.Contains(out, `"v"`) {
		t.Errorf("list through HAProxy: %v\n%s", err, out)
	}
	_, greet := peertest.DialSieve(t, ms)
	if greet.Status != "(connection: EOF)" || len(greet.Lines) != 0 {
		t.Errorf("a direct connection without a PROXY header got %q", greet.String())
	}
	v.waitLog("managesieve: PROXY header rejected", "cause=timeout")
}
