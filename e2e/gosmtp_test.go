//go:build e2e

package e2e

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"errors"
	"fmt"
	"io"
	"math/big"
	"net"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/emersion/go-sasl"
	"github.com/emersion/go-smtp"
)

// received is one message a go-smtp test server accepted.
type received struct {
	from string
	to   []string
	data []byte
	tls  bool
}

// peer is a go-smtp server (SMTP relay or downstream LMTP) whose answers
// the test scripts: rcptReplies are the answers to successive RCPT
// commands (nil accepts), after which every RCPT is accepted; lmtpFail
// gives, per recipient, the LMTP answer after DATA.
type peer struct {
	addr string
	srv  *smtp.Server

	// authUser and authPass, when set, make AUTH PLAIN mandatory.
	authUser, authPass string

	mu          sync.Mutex
	mailReply   error // answer to every MAIL FROM while not nil
	rcptReplies []error
	lmtpFail    map[string]*smtp.SMTPError
	rcpts       int // RCPT commands seen
	msgs        []received
}

// startPeer serves SMTP (or LMTP) on network/addr in the test. With
// tlsConfig set, SMTP offers STARTTLS.
func startPeer(t *testing.T, lmtp bool, network, addr string, tlsConfig *tls.Config) *peer {
	t.Helper()
	if addr == "" {
		addr = "127.0.0.1:0"
	}
	l, err := net.Listen(network, addr)
	if err != nil {
		t.Fatal(err)
	}
	p := &peer{addr: l.Addr().String(), lmtpFail: map[string]*smtp.SMTPError{}}
	p.srv = smtp.NewServer(smtp.BackendFunc(func(c *smtp.Conn) (smtp.Session, error) {
		_, secure := c.TLSConnectionState()
		s := &peerSession{p: p, tls: secure}
		if p.authUser != "" {
			return &authSession{s}, nil
		}
		return s, nil
	}))
	p.srv.LMTP = lmtp
	p.srv.Domain = "peer.example.net"
	p.srv.TLSConfig = tlsConfig
	p.srv.EnableDSN = true
	p.srv.ReadTimeout = time.Minute
	p.srv.WriteTimeout = time.Minute
	p.srv.ErrorLog = testLogger{t}
	go p.srv.Serve(l)
	t.Cleanup(func() { p.srv.Close() })
	return p
}

type testLogger struct{ t *testing.T }

func (l testLogger) Printf(format string, v ...any) { l.t.Logf("go-smtp peer: "+format, v...) }
func (l testLogger) Println(v ...any)               { l.t.Log(append([]any{"go-smtp peer:"}, v...)...) }

// received returns a copy of the messages accepted so far.
func (p *peer) received() []received {
	p.mu.Lock()
	defer p.mu.Unlock()
	return append([]received(nil), p.msgs...)
}

// rcptCount is the number of RCPT commands seen so far.
func (p *peer) rcptCount() int {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.rcpts
}

type peerSession struct {
	p      *peer
	tls    bool
	authed bool
	from   string
	to     []string
}

// authSession is a peerSession that offers AUTH PLAIN and requires it.
type authSession struct{ *peerSession }

func (s *authSession) AuthMechanisms() []string { return []string{sasl.Plain} }

func (s *authSession) Auth(mech string) (sasl.Server, error) {
	return sasl.NewPlainServer(func(_, user, pass string) error {
		if user != s.p.authUser || pass != s.p.authPass {
			return &smtp.SMTPError{Code: 535, EnhancedCode: smtp.EnhancedCode{5, 7, 8}, Message: "Authentication credentials invalid"}
		}
		s.authed = true
		return nil
	}), nil
}

func (s *authSession) Mail(from string, opts *smtp.MailOptions) error {
	if !s.authed {
		return &smtp.SMTPError{Code: 530, EnhancedCode: smtp.EnhancedCode{5, 7, 0}, Message: "Authentication required"}
	}
	return s.peerSession.Mail(from, opts)
}

func (s *peerSession) Reset()        { s.from, s.to = "", nil }
func (s *peerSession) Logout() error { return nil }

func (s *peerSession) Mail(from string, _ *smtp.MailOptions) error {
	s.p.mu.Lock()
	defer s.p.mu.Unlock()
	if s.p.mailReply != nil {
		return s.p.mailReply
	}
	s.from = from
	return nil
}

func (s *peerSession) Rcpt(to string, _ *smtp.RcptOptions) error {
	s.p.mu.Lock()
	defer s.p.mu.Unlock()
	s.p.rcpts++
	if len(s.p.rcptReplies) > 0 {
		err := s.p.rcptReplies[0]
		s.p.rcptReplies = s.p.rcptReplies[1:]
		if err != nil {
			return err
		}
	}
	s.to = append(s.to, to)
	return nil
}

func (s *peerSession) Data(r io.Reader) error {
	b, err := io.ReadAll(r)
	if err != nil {
		return err
	}
	s.p.mu.Lock()
	defer s.p.mu.Unlock()
	s.p.msgs = append(s.p.msgs, received{from: s.from, to: s.to, data: b, tls: s.tls})
	return nil
}

// LMTPData answers per recipient as lmtpFail says; the message is recorded
// with the recipients that were accepted.
func (s *peerSession) LMTPData(r io.Reader, status smtp.StatusCollector) error {
	b, err := io.ReadAll(r)
	if err != nil {
		return err
	}
	s.p.mu.Lock()
	defer s.p.mu.Unlock()
	var ok []string
	for _, rc := range s.to {
		if e := s.p.lmtpFail[rc]; e != nil {
			status.SetStatus(rc, e)
			continue
		}
		ok = append(ok, rc)
		status.SetStatus(rc, nil)
	}
	if len(ok) > 0 {
		s.p.msgs = append(s.p.msgs, received{from: s.from, to: ok, data: b, tls: s.tls})
	}
	return nil
}

// lmtpSend delivers msg over LMTP to addr and returns each recipient's
// reply code (250, 451, ...); it fails the test when the session fails.
func lmtpSend(t *testing.T, addr, from string, rcpts []string, msg []byte) map[string]int {
	t.Helper()
	codes, err := lmtpTry(addr, from, rcpts, msg)
	if err != nil {
		t.Fatal(err)
	}
	return codes
}

// lmtpTry is lmtpSend returning the session's failure (a connection
// refused or cut, a command refused) instead of failing the test.
func lmtpTry(addr, from string, rcpts []string, msg []byte) (map[string]int, error) {
	c, err := net.DialTimeout("tcp", addr, 5*time.Second)
	if err != nil {
		return nil, fmt.Errorf("connect %s: %w", addr, err)
	}
	cl := smtp.NewClientLMTP(c)
	cl.CommandTimeout = commandTimeout
	cl.SubmissionTimeout = commandTimeout
	defer cl.Close()
	if err := cl.Hello("client.example.org"); err != nil {
		return nil, fmt.Errorf("LHLO: %w", err)
	}
	// A non-ASCII address needs SMTPUTF8 declared (RFC 6531).
	var opts *smtp.MailOptions
	for _, a := range append([]string{from}, rcpts...) {
		if strings.IndexFunc(a, func(r rune) bool { return r >= utf8.RuneSelf }) >= 0 {
			opts = &smtp.MailOptions{UTF8: true}
		}
	}
	if err := cl.Mail(from, opts); err != nil {
		return nil, fmt.Errorf("MAIL FROM: %w", err)
	}
	for _, r := range rcpts {
		if err := cl.Rcpt(r, nil); err != nil {
			return nil, fmt.Errorf("RCPT TO:<%s>: %w", r, err)
		}
	}
	w, err := cl.Data()
	if err != nil {
		return nil, fmt.Errorf("DATA: %w", err)
	}
	if _, err := w.Write(msg); err != nil {
		return nil, fmt.Errorf("DATA: %w", err)
	}
	resp, err := w.CloseWithLMTPResponse()
	var lerr smtp.LMTPDataError
	if err != nil && !errors.As(err, &lerr) {
		return nil, fmt.Errorf("end of DATA: %w", err)
	}
	codes := map[string]int{}
	for _, r := range rcpts {
		switch {
		case lerr[r] != nil:
			codes[r] = lerr[r].Code
		case resp[r] != nil:
			codes[r] = 250
		}
	}
	cl.Quit()
	return codes, nil
}

// deliverOne sends one message over LMTP and fails unless it got 250.
func deliverOne(t *testing.T, addr, from, rcpt string, msg []byte) {
	t.Helper()
	if got := lmtpSend(t, addr, from, []string{rcpt}, msg); got[rcpt] != 250 {
		t.Fatalf("LMTP delivery from %s to %s: got %v, want 250", from, rcpt, got)
	}
}

// testCA makes a CA and a server certificate for 127.0.0.1 signed by it.
// It returns the server's TLS config and the path of the CA's PEM file.
func testCA(t *testing.T) (*tls.Config, string) {
	t.Helper()
	caKey, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	now := time.Now()
	caTmpl := &x509.Certificate{
		SerialNumber:          big.NewInt(1),
		Subject:               pkix.Name{CommonName: "vacationd e2e test CA"},
		NotBefore:             now.Add(-time.Hour),
		NotAfter:              now.Add(24 * time.Hour),
		IsCA:                  true,
		BasicConstraintsValid: true,
		KeyUsage:              x509.KeyUsageCertSign | x509.KeyUsageDigitalSignature,
	}
	caDER, err := x509.CreateCertificate(rand.Reader, caTmpl, caTmpl, &caKey.PublicKey, caKey)
	if err != nil {
		t.Fatal(err)
	}
	ca, err := x509.ParseCertificate(caDER)
	if err != nil {
		t.Fatal(err)
	}
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	leafTmpl := &x509.Certificate{
		SerialNumber: big.NewInt(2),
		Subject:      pkix.Name{CommonName: "relay.example.net"},
		NotBefore:    now.Add(-time.Hour),
		NotAfter:     now.Add(24 * time.Hour),
		DNSNames:     []string{"localhost", "relay.example.net"},
		IPAddresses:  []net.IP{net.IPv4(127, 0, 0, 1)},
		KeyUsage:     x509.KeyUsageDigitalSignature,
		ExtKeyUsage:  []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
	}
	leafDER, err := x509.CreateCertificate(rand.Reader, leafTmpl, ca, &key.PublicKey, caKey)
	if err != nil {
		t.Fatal(err)
	}
	caFile := filepath.Join(t.TempDir(), "ca.pem")
	if err := os.WriteFile(caFile, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: caDER}), 0o644); err != nil {
		t.Fatal(err)
	}
	cfg := &tls.Config{Certificates: []tls.Certificate{{Certificate: [][]byte{leafDER}, PrivateKey: key}}}
	return cfg, caFile
}
