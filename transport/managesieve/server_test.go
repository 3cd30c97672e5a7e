package managesieve

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"fmt"
	"math/big"
	"net"
	"net/netip"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/vacationd/vacationd/internal/peertest"
	"github.com/vacationd/vacationd/transport"
)

// memBackend is a Backend over maps, user "alice" password "pw".
type memBackend struct {
	mu      sync.Mutex
	scripts map[string]string
	active  string
	logins  []ConnInfo
}

func (b *memBackend) Login(_ context.Context, c ConnInfo, authzid, user, pass string) (Session, error) {
	b.mu.Lock()
	b.logins = append(b.logins, c)
	b.mu.Unlock()
	if user == "down" {
		return nil, fmt.Errorf("backend unavailable")
	}
	if user != "alice" || pass != "pw" {
		return nil, ErrAuthFailed
	}
	return &memSession{b}, nil
}

type memSession struct{ b *memBackend }

func (s *memSession) User() string { return "alice" }
func (s *memSession) ListScripts(context.Context) ([]ScriptInfo, error) {
	s.b.mu.Lock()
	defer s.b.mu.Unlock()
	var out []ScriptInfo
	for n := range s.b.scripts {
		out = append(out, ScriptInfo{Name: n, Active: n == s.b.active})
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out, nil
}
func (s *memSession) GetScript(_ context.Context, name string) ([]byte, error) {
	s.b.mu.Lock()
	defer s.b.mu.Unlock()
	src, ok := s.b.scripts[name]
	if !ok {
		return nil, &Error{Code: CodeNonexistent, Text: "not found"}
	}
	return []byte(src), nil
}
func (s *memSession) PutScript(_ context.Context, name string, src []byte) (string, error) {
	if strings.Contains(string(src), "bad") {
		return "", &Error{Text: "line 1: error: bad.\r\n"}
	}
	s.b.mu.Lock()
	defer s.b.mu.Unlock()
	s.b.scripts[name] = string(src)
	if strings.Contains(string(src), "warn") {
		return "line 1: warning: careful.\r\n", nil
	}
	return "", nil
}
func (s *memSession) CheckScript(context.Context, []byte) (string, error) { return "", nil }
func (s *memSession) HaveSpace(context.Context, string, int64) error      { return nil }
func (s *memSession) SetActive(_ context.Context, name string) error {
	s.b.mu.Lock()
	defer s.b.mu.Unlock()
	s.b.active = name
	return nil
}
func (s *memSession) DeleteScript(context.Context, string) error { return fmt.Errorf("disk on fire") }
func (s *memSession) RenameScript(context.Context, string, string) error {
	return &Error{Code: CodeAlreadyExists, Text: "exists"}
}
func (s *memSession) Close() error { return nil }

func selfSigned(t *testing.T) *tls.Config {
	key, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "localhost"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour), DNSNames: []string{"localhost"}}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	return &tls.Config{Certificates: []tls.Certificate{{Certificate: [][]byte{der}, PrivateKey: key}}}
}

func start(t *testing.T, cfg Config) (*Server, string, *memBackend) {
	t.Helper()
	b := &memBackend{scripts: map[string]string{}}
	if cfg.Backend == nil {
		cfg.Backend = b
	}
	if cfg.AuthFailDelay == 0 {
		cfg.AuthFailDelay = time.Millisecond
	}
	cfg.Extensions = []string{"fileinto", "vacation"}
	s, err := NewServer(cfg)
	if err != nil {
		t.Fatal(err)
	}
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	go s.Serve(l)
	t.Cleanup(func() { s.Close() })
	return s, l.Addr().String(), b
}

func TestSession(t *testing.T) {
	_, addr, _ := start(t, Config{MaxScriptSize: 100})
	c, greet := peertest.DialSieve(t, addr)
	want := `"IMPLEMENTATION" "vacationd"
"SIEVE" "fileinto vacation"
"SASL" "PLAIN LOGIN"
"VERSION" "1.0"
OK "vacationd ready."`
	if greet.String() != want {
		t.Errorf("greeting:\n%s\nwant:\n%s", greet, want)
	}
	for _, step := range []struct{ cmd, want string }{
		{"LISTSCRIPTS", `NO "Error in MANAGESIEVE command received by server."`},
		{`AUTHENTICATE "PLAIN" "AGFsaWNlAHd3"`, `NO "Authentication failed."`},
		{`AUTHENTICATE "FOO"`, `NO "Unsupported authentication mechanism."`},
		{`AUTHENTICATE "PLAIN" "!!"`, `NO "Invalid base64 data in initial response"`},
		{`STARTTLS`, `NO "TLS support isn't enabled."`},
		{`AUTHENTICATE "PLAIN" "AGFsaWNlAHB3"`, `OK "Logged in."`},
		{`AUTHENTICATE "PLAIN" "AGFsaWNlAHB3"`, `NO "Error in MANAGESIEVE command AUTHENTICATE: Unknown command."`},
		{"PUTSCRIPT \"s\" {5+}\r\nkeep;", `OK "PUTSCRIPT completed."`},
		{"PUTSCRIPT \"t\" {4}\r\nwarn", "OK (WARNINGS) {27}\nline 1: warning: careful.\r\n"},
		{`PUTSCRIPT "u" "bad"`, "NO {21}\nline 1: error: bad.\r\n"},
		{"PUTSCRIPT \"big\" {101+}\r\n" + strings.Repeat("x", 101), `NO (QUOTA/MAXSIZE) "Script is too large (max 100 bytes)."`},
		{`PUTSCRIPT x "keep;"`, `NO "Error in MANAGESIEVE command PUTSCRIPT: Invalid arguments."`},
		{`PUTSCRIPT "x"`, `NO "Error in MANAGESIEVE command PUTSCRIPT: Missing arguments."`},
		{`putscript "v" "a \"quoted\" \\ text"`, `OK "PUTSCRIPT completed."`},
		{`GETSCRIPT "v"`, "{17}\na \"quoted\" \\ text\nOK \"Getscript completed.\""},
		{`SETACTIVE "s"`, `OK "Setactive completed."`},
		{"LISTSCRIPTS", "\"s\" ACTIVE\n\"t\"\n\"v\"\nOK \"Listscripts completed.\""},
		{`SETACTIVE ""`, `OK "Active script is now deactivated."`},
		{`GETSCRIPT "zz"`, `NO (NONEXISTENT) "not found"`},
		{`RENAMESCRIPT "s" "t"`, `NO (ALREADYEXISTS) "exists"`},
		{`DELETESCRIPT "s"`, `NO (TRYLATER) "Internal error occurred. Refer to server log for more information."`},
		{`HAVESPACE "s" -1`, `NO "Invalid scriptsize argument."`},
		{`HAVESPACE "s" 10`, `OK "Putscript would succeed."`},
		{`NOOP "t1"`, `OK (TAG "t1") "Done"`},
		{`NOOP`, `OK "NOOP Completed"`},
		{`NOOP "a" "b"`, `NO "Error in MANAGESIEVE command NOOP: Too many arguments."`},
		{`NOOP`, `OK "NOOP Completed"`},
		{`CAPABILITY x`, `NO "Error in MANAGESIEVE command CAPABILITY: Too many arguments."`},
		{`UNAUTHENTICATE`, `OK "Unauthenticate completed."`},
		{`GETSCRIPT "s"`, `NO "Error in MANAGESIEVE command received by server."`},
		{`LOGOUT`, `OK "Logout completed."`},
	} {
		if got := c.Cmd(step.cmd).String(); got != step.want {
			t.Errorf("%q:\n%s\nwant:\n%s", step.cmd, got, step.want)
		}
	}
}

func TestLoginMechanism(t *testing.T) {
	_, addr, _ := start(t, Config{})
	c, _ := peertest.DialSieve(t, addr)
	c.Send("AUTHENTICATE \"LOGIN\"\r\n")
	if l := c.ReadLine(); l != `"VXNlcm5hbWU6"` {
		t.Fatalf("challenge %q", l)
	}
	c.Send("\"YWxpY2U=\"\r\n")
	if l := c.ReadLine(); l != `"UGFzc3dvcmQ6"` {
		t.Fatalf("challenge %q", l)
	}
	c.Send("{4+}\r\ncHc=\r\n") // the response as a literal
	if r := c.Read(); r.Status != `OK "Logged in."` {
		t.Fatalf("LOGIN: %s", r)
	}
	c2, _ := peertest.DialSieve(t, addr)
	c2.Send("AUTHENTICATE \"PLAIN\"\r\n")
	if l := c2.ReadLine(); l != `""` {
		t.Fatalf("empty challenge %q", l)
	}
	if r := c2.Cmd(`"*"`); r.Status != `NO "Authentication aborted by client."` {
		t.Errorf("abort: %s", r)
	}
}

func TestPlaintextNeedsTLS(t *testing.T) {
	tc := selfSigned(t)
	// Loopback is trusted unless the client address comes from a PROXY
	// header: use one to appear as a remote client.
	_, addr, b := start(t, Config{TLS: tc, Proxy: transport.ProxyGate{Mode: transport.ProxyRequired, Trusted: []netip.Prefix{netip.MustParsePrefix("127.0.0.0/8")}}})
	raw, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer raw.Close()
	fmt.Fprintf(raw, "PROXY TCP4 192.0.2.7 127.0.0.1 5000 4190\r\n")
	c, greet := peertest.DialSieveConn(t, raw)
	if !strings.Contains(greet.String(), `"SASL" ""`) || !strings.Contains(greet.String(), `"STARTTLS"`) {
		t.Errorf("greeting before TLS to a remote client:\n%s", greet)
	}
	if r := c.Cmd(`AUTHENTICATE "PLAIN" "AGFsaWNlAHB3"`); r.Status != `NO (ENCRYPT-NEEDED) "Plaintext authentication disallowed on non-secure (SSL/TLS) connections."` {
		t.Errorf("plaintext auth before TLS: %s", r)
	}
	if r := c.Cmd("STARTTLS"); r.Status != `OK "Begin TLS negotiation now."` {
		t.Fatalf("STARTTLS: %s", r)
	}
	tlsc := tls.Client(c.Conn(), &tls.Config{InsecureSkipVerify: true})
	if err := tlsc.Handshake(); err != nil {
		t.Fatal(err)
	}
	c.SetConn(tlsc)
	caps := c.Read()
	if !strings.Contains(caps.String(), `"SASL" "PLAIN LOGIN"`) || strings.Contains(caps.String(), "STARTTLS") || caps.Status != `OK "TLS negotiation successful."` {
		t.Errorf("capabilities after TLS:\n%s", caps)
	}
	if r := c.Cmd(`AUTHENTICATE "PLAIN" "AGFsaWNlAHB3"`); r.Status != `OK "Logged in."` {
		t.Errorf("auth over TLS: %s", r)
	}
	b.mu.Lock()
	li := b.logins[len(b.logins)-1]
	b.mu.Unlock()
	if !li.TLS || li.Remote.Addr().String() != "192.0.2.7" {
		t.Errorf("login info %+v", li)
	}
}

func TestLimits(t *testing.T) {
	_, addr, _ := start(t, Config{MaxConnsPerIP: 2, MaxLine: 100, MaxAuthFails: 2})
	peertest.DialSieve(t, addr)
	c2, _ := peertest.DialSieve(t, addr)
	if _, g := peertest.DialSieve(t, addr); g.Status != `BYE "Too many connections from your IP address."` {
		t.Errorf("third connection: %s", g)
	}
	if r := c2.Cmd("NOOP " + strings.Repeat("x", 200)); r.Status != `BYE "Input buffer full, aborting"` {
		t.Errorf("long line: %s", r)
	}
	_, addr2, _ := start(t, Config{MaxScriptSize: 10})
	c7, _ := peertest.DialSieve(t, addr2)
	if r := c7.Cmd("NOOP {20000+}\r\n"); r.Status != `BYE "Input buffer full, aborting"` {
		t.Errorf("a large literal before login: %s", r)
	}
	c6, _ := peertest.DialSieve(t, addr2)
	c6.Cmd(`AUTHENTICATE "PLAIN" "AGFsaWNlAHB3"`)
	lit := "{10+}\r\n" + strings.Repeat("x", 10)
	if r := c6.Cmd("NOOP " + lit + " " + lit + " " + lit); r.Status != `BYE "Input buffer full, aborting"` {
		t.Errorf("a line of many literals: %s", r)
	}
	_, addr, _ = start(t, Config{MaxAuthFails: 2})
	c3, _ := peertest.DialSieve(t, addr)
	c3.Cmd(`AUTHENTICATE "PLAIN" "AGFsaWNlAHd3"`)
	if r := c3.Cmd(`AUTHENTICATE "PLAIN" "AGFsaWNlAHd3"`); !strings.HasPrefix(r.Status, "BYE") {
		t.Errorf("second failure: %s", r)
	}
	c4, _ := peertest.DialSieve(t, addr)
	for range 3 {
		c4.Cmd("FOO")
	}
	if r := c4.Cmd("FOO"); r.Status != `BYE "Too many invalid MANAGESIEVE commands."` {
		t.Errorf("bad commands: %s", r)
	}
	c5, _ := peertest.DialSieve(t, addr)
	if r := c5.Cmd(`AUTHENTICATE "PLAIN" "AGRvd24AcHc="`); r.Status != `NO (TRYLATER) "Temporary authentication failure."` {
		t.Errorf("backend down: %s", r)
	}
}

func TestLoginTimeout(t *testing.T) {
	_, addr, _ := start(t, Config{LoginTimeout: 50 * time.Millisecond})
	c, _ := peertest.DialSieve(t, addr)
	if r := c.Read(); r.Status != `BYE "Disconnected for inactivity."` {
		t.Errorf("no login in time: %s", r)
	}
}

func TestShutdown(t *testing.T) {
	s, addr, _ := start(t, Config{})
	c, _ := peertest.DialSieve(t, addr)
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := s.Shutdown(ctx); err != nil {
		t.Fatal(err)
	}
	if r := c.Read(); r.Status != `BYE "Server shutting down."` {
		t.Errorf("idle session at shutdown: %s", r)
	}
}
