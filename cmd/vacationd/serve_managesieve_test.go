package main

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/base64"
	"encoding/pem"
	"math/big"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/vacationd/vacationd/internal/peertest"
)

// writeCert writes a self-signed certificate with the given serial and
// its key as PEM files.
func writeCert(t *testing.T, certFile, keyFile string, serial int64) {
	t.Helper()
	key, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(serial), Subject: pkix.Name{CommonName: "localhost"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour), DNSNames: []string{"localhost"}}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	kb, _ := x509.MarshalPKCS8PrivateKey(key)
	os.WriteFile(certFile, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), 0o644)
	os.WriteFile(keyFile, pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: kb}), 0o600)
}

// startTLSSerial logs in over STARTTLS with PLAIN and returns the
// server certificate's serial and the login's status line.
func startTLSSerial(t *testing.T, addr, user, pass string) (int64, string) {
	t.Helper()
	c, _ := peertest.DialSieve(t, addr)
	if r := c.Cmd("STARTTLS"); !strings.HasPrefix(r.Status, "OK") {
		t.Fatalf("STARTTLS: %s", r)
	}
	tc := tls.Client(c.Conn(), &tls.Config{InsecureSkipVerify: true})
	if err := tc.Handshake(); err != nil {
		t.Fatal(err)
	}
	c.SetConn(tc)
	c.Read() // capabilities again
	resp := plainResp(user, pass)
	r := c.Cmd(`AUTHENTICATE "PLAIN" "` + resp + `"`)
	c.Cmd("LOGOUT")
	return tc.ConnectionState().PeerCertificates[0].SerialNumber.Int64(), r.Status
}

func plainResp(user, pass string) string {
	return base64.StdEncoding.EncodeToString([]byte("\x00" + user + "\x00" + pass))
}

// TestServeManageSieve: serve --managesieve stores what a client uploads
// and runs it from the next message (store is the default source); the
// passwd-file is reread when it changes; SIGHUP reloads the certificate.
func TestServeManageSieve(t *testing.T) {
	dir := t.TempDir()
	users := filepath.Join(dir, "users")
	os.WriteFile(users, []byte("alice@example.com:{PLAIN}one::::::\n"), 0o600)
	certFile, keyFile := filepath.Join(dir, "cert.pem"), filepath.Join(dir, "key.pem")
	writeCert(t, certFile, keyFile, 1)
	ms, httpAddr := peertest.FreeAddr(t), peertest.FreeAddr(t)
	sock := filepath.Join(dir, "lmtp.sock")
	logs := serveInProcess(t, "--data", filepath.Join(dir, "data"), "--lmtp", "unix:"+sock, "--http", httpAddr,
		"--hostname", "mx.example.com", "--no-relay", "--managesieve", ms, "--auth", "passwd-file:"+users,
		"--tls-cert", certFile, "--tls-key", keyFile, "--managesieve-auth-fail-delay", "1ms")

	c, _ := peertest.DialSieve(t, ms)
	for _, cmd := range []string{
		`AUTHENTICATE "PLAIN" "` + plainResp("alice@example.com", "one") + `"`,
		"PUTSCRIPT \"v\" {48+}\r\nrequire \"vacation\";\r\nvacation :days 1 \"Away.\";\r\n",
		`SETACTIVE "v"`,
	} {
		if r := c.Cmd(cmd); !strings.HasPrefix(r.Status, "OK") {
			t.Fatalf("%q: %s", cmd, r)
		}
	}
	l := dialLMTP(t, "unix", sock)
	l.send("carol@example.org", "alice@example.com", "From: carol@example.org\r\nTo: alice@example.com\r\nSubject: hi\r\nMessage-ID: <1@x>\r\n\r\nhello\r\n")
	if d := metric(t, httpAddr, "vacationd_outbox_depth"); d != "1" {
		t.Errorf("outbox depth %q after a message to alice, want 1 (her uploaded vacation script)\n%s", d, logs.String())
	}

	// The passwd-file is reread when it changes, without a reload.
	os.WriteFile(users, []byte("alice@example.com:{PLAIN}two::::::\n"), 0o600)
	os.Chtimes(users, time.Now().Add(time.Second), time.Now().Add(time.Second))
	if serial, st := startTLSSerial(t, ms, "alice@example.com", "one"); serial != 1 || st != `NO "Authentication failed."` {
		t.Errorf("old password after the change: cert %d, %s", serial, st)
	}
	writeCert(t, certFile, keyFile, 2)
	n := strings.Count(logs.String(), "msg=reloaded")
	syscall.Kill(os.Getpid(), syscall.SIGHUP)
	peertest.WaitFor(t, 10*time.Second, "reloaded", func() bool { return strings.Count(logs.String(), "msg=reloaded") > n })
	if serial, st := startTLSSerial(t, ms, "alice@example.com", "two"); serial != 2 || st != `OK "Logged in."` {
		t.Errorf("after SIGHUP: cert %d (want 2), %s", serial, st)
	}
	if m := metric(t, httpAddr, "vacationd_managesieve_auth_failures_total"); m != "1" {
		t.Errorf("auth failures metric %q, want 1", m)
	}
	if strings.Contains(logs.String(), "=one") || strings.Contains(logs.String(), "=two") || strings.Contains(logs.String(), "{PLAIN}") {
		t.Errorf("a password reached the log:\n%s", logs.String())
	}
}
