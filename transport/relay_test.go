package transport

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"errors"
	"io"
	"log"
	"math/big"
	"net"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/emersion/go-sasl"
	"github.com/emersion/go-smtp"
)

// testCert makes a self-signed certificate for 127.0.0.1 and localhost and
// a pool that trusts it.
func testCert(t testing.TB) (tls.Certificate, *x509.CertPool) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber:          big.NewInt(1),
		Subject:               pkix.Name{CommonName: "relay.test"},
		NotBefore:             time.Now().Add(-time.Hour),
		NotAfter:              time.Now().Add(time.Hour),
		KeyUsage:              x509.KeyUsageDigitalSignature | x509.KeyUsageCertSign,
		ExtKeyUsage:           []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
		BasicConstraintsValid: true,
		IsCA:                  true,
		IPAddresses:           []net.IP{net.ParseIP("127.0.0.1")},
		DNSNames:              []string{"localhost"},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	cert, err := x509.ParseCertificate(der)
	if err != nil {
		t.Fatal(err)
	}
	pool := x509.NewCertPool()
	pool.AddCert(cert)
	return tls.Certificate{Certificate: [][]byte{der}, PrivateKey: key, Leaf: cert}, pool
}

// relayMsg is one message a test relay accepted.
type relayMsg struct {
	From   string
	To     []string
	Notify [][]smtp.DSNNotify
	Data   string
	TLS    bool
	User   string
	Remote string // the client address the relay saw
}

// relay is an in-process SMTP server recording what it accepts.
type relay struct {
	mu     sync.Mutex
	msgs   []relayMsg
	resets int

	discard   bool // count messages only (benchmarks)
	count     atomic.Int64
	users     map[string]string // AUTH user -> password; nil: no AUTH
	mailReply func(from string) error
	rcptReply func(to string) error
	dataReply func() error
}

func (r *relay) NewSession(c *smtp.Conn) (smtp.Session, error) {
	_, isTLS := c.TLSConnectionState()
	return &relaySession{r: r, msg: relayMsg{TLS: isTLS, Remote: c.Conn().RemoteAddr().String()}}, nil
}

func (r *relay) got() []relayMsg {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]relayMsg(nil), r.msgs...)
}

type relaySession struct {
	r    *relay
	msg  relayMsg
	user string
}

func (s *relaySession) AuthMechanisms() []string {
	if s.r.users == nil {
		return nil
	}
	return []string{sasl.Plain, sasl.Login}
}

func (s *relaySession) Auth(mech string) (sasl.Server, error) {
	check := func(user, pass string) error {
		if p, ok := s.r.users[user]; !ok || p != pass {
			return smtp.ErrAuthFailed
		}
		s.user = user
		return nil
	}
	switch mech {
	case sasl.Plain:
		return sasl.NewPlainServer(func(_, user, pass string) error { return check(user, pass) }), nil
	case sasl.Login:
		return &loginServer{check: check}, nil
	}
	return nil, smtp.ErrAuthUnknownMechanism
}

// loginServer is the server side of AUTH LOGIN (go-sasl has none).
type loginServer struct {
	check func(user, pass string) error
	user  *string
}

func (l *loginServer) Next(resp []byte) ([]byte, bool, error) {
	if l.user == nil {
		if resp == nil {
			return []byte("Username:"), false, nil
		}
		u := string(resp)
		l.user = &u
		return []byte("Password:"), false, nil
	}
	return nil, true, l.check(*l.user, string(resp))
}

func (s *relaySession) Mail(from string, _ *smtp.MailOptions) error {
	if s.r.users != nil && s.user == "" {
		return smtp.ErrAuthRequired
	}
	if s.r.mailReply != nil {
		if err := s.r.mailReply(from); err != nil {
			return err
		}
	}
	s.msg.From = from
	return nil
}

func (s *relaySession) Rcpt(to string, opts *smtp.RcptOptions) error {
	if s.r.rcptReply != nil {
		if err := s.r.rcptReply(to); err != nil {
			return err
		}
	}
	s.msg.To = append(s.msg.To, to)
	s.msg.Notify = append(s.msg.Notify, opts.Notify)
	return nil
}

func (s *relaySession) Data(r io.Reader) error {
	b, err := io.ReadAll(r)
	if err != nil {
		return err
	}
	if s.r.dataReply != nil {
		if err := s.r.dataReply(); err != nil {
			return err
		}
	}
	s.r.count.Add(1)
	if s.r.discard {
		return nil
	}
	s.msg.Data = string(b)
	s.msg.User = s.user
	s.r.mu.Lock()
	s.r.msgs = append(s.r.msgs, s.msg)
	s.r.mu.Unlock()
	return nil
}

func (s *relaySession) Reset() {
	s.r.mu.Lock()
	s.r.resets++
	s.r.mu.Unlock()
	s.msg = relayMsg{TLS: s.msg.TLS, Remote: s.msg.Remote}
}

func (s *relaySession) Logout() error { return nil }

// countListener counts accepted connections and can drop them all.
type countListener struct {
	net.Listener
	n     atomic.Int64
	mu    sync.Mutex
	conns []net.Conn
}

func (l *countListener) Accept() (net.Conn, error) {
	c, err := l.Listener.Accept()
	if err == nil {
		l.n.Add(1)
		l.mu.Lock()
		l.conns = append(l.conns, c)
		l.mu.Unlock()
	}
	return c, err
}

// dropAll closes every accepted connection, as a relay timing out idle
// sessions does.
func (l *countListener) dropAll() {
	l.mu.Lock()
	defer l.mu.Unlock()
	for _, c := range l.conns {
		c.Close()
	}
	l.conns = nil
}

// startRelay serves r on 127.0.0.1; wrap, if set, wraps the listener (for
// PROXY or implicit TLS), and configure adjusts the go-smtp server.
func startRelay(t testing.TB, r *relay, wrap func(net.Listener) net.Listener, configure func(*smtp.Server)) (string, *countListener) {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	cl := &countListener{Listener: l}
	var sl net.Listener = cl
	if wrap != nil {
		sl = wrap(cl)
	}
	s := smtp.NewServer(r)
	s.Domain = "relay.test"
	s.AllowInsecureAuth = true
	s.ErrorLog = log.New(io.Discard, "", 0)
	if configure != nil {
		configure(s)
	}
	done := make(chan struct{})
	go func() {
		defer close(done)
		if err := s.Serve(sl); err != nil && !errors.Is(err, net.ErrClosed) {
			t.Errorf("relay: %v", err)
		}
	}()
	t.Cleanup(func() { s.Close(); l.Close(); <-done }) // l too: Close may run before Serve registered it
	return l.Addr().String(), cl
}
