package transport

import (
	"context"
	"crypto/tls"
	"errors"
	"net"
	"net/netip"
	"strings"
	"testing"
	"time"

	"github.com/emersion/go-smtp"
	proxyproto "github.com/pires/go-proxyproto"
)

const replyMsg = "From: bob@example.com\r\nTo: alice@example.org\r\nSubject: Auto: hi\r\nAuto-Submitted: auto-replied\r\n\r\nI am away.\r\n"

func newTestSender(t testing.TB, cfg SenderConfig) *Sender {
	t.Helper()
	if cfg.HeloName == "" {
		cfg.HeloName = "vacationd.test"
	}
	if cfg.Logger == nil {
		cfg.Logger, _ = testLogger(t)
	}
	s, err := NewSender(cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

func TestSenderPlain(t *testing.T) {
	r := &relay{}
	addr, _ := startRelay(t, r, nil, nil)
	s := newTestSender(t, SenderConfig{Addr: addr, TLS: TLSNone})
	if err := s.Send(context.Background(), "", []string{"alice@example.org"}, []byte(replyMsg)); err != nil {
		t.Fatal(err)
	}
	got := r.got()
	if len(got) != 1 || got[0].From != "" || got[0].To[0] != "alice@example.org" || got[0].Data != replyMsg || got[0].TLS {
		t.Fatalf("relay got %+v", got)
	}
	if got[0].Notify[0] != nil {
		t.Errorf("NOTIFY %v sent to a relay without DSN", got[0].Notify[0])
	}
}

func TestSenderSMTPUTF8(t *testing.T) {
	r := &relay{}
	addr, _ := startRelay(t, r, nil, func(s *smtp.Server) { s.EnableSMTPUTF8 = true })
	s := newTestSender(t, SenderConfig{Addr: addr})
	if err := s.Send(context.Background(), "", []string{"jörg@bücher.example"}, []byte(replyMsg)); err != nil {
		t.Fatal(err)
	}
	if got := r.got(); len(got) != 1 || got[0].To[0] != "jörg@bücher.example" {
		t.Fatalf("relay got %+v", got)
	}
}

func TestSenderNotifyNever(t *testing.T) {
	r := &relay{}
	addr, _ := startRelay(t, r, nil, func(s *smtp.Server) { s.EnableDSN = true })
	s := newTestSender(t, SenderConfig{Addr: addr})
	if err := s.Send(context.Background(), "", []string{"a@example.org", "b@example.org"}, []byte(replyMsg)); err != nil {
		t.Fatal(err)
	}
	got := r.got()
	if len(got) != 1 || len(got[0].Notify) != 2 {
		t.Fatalf("relay got %+v", got)
	}
	for i, n := range got[0].Notify {
		if len(n) != 1 || n[0] != smtp.DSNNotifyNever {
			t.Errorf("recipient %d NOTIFY %v, want NEVER", i, n)
		}
	}
}

func TestSenderTLS(t *testing.T) {
	cert, roots := testCert(t)
	srvTLS := &tls.Config{Certificates: []tls.Certificate{cert}}
	offer := func(s *smtp.Server) { s.TLSConfig = srvTLS }
	implicit := func(l net.Listener) net.Listener { return tls.NewListener(l, srvTLS) }
	tests := []struct {
		name      string
		mode      TLSMode
		configure func(*smtp.Server)
		wrap      func(net.Listener) net.Listener
		roots     bool
		insecure  bool
		wantTLS   bool
		wantOp    string // failure expected in this step
	}{
		{name: "auto with STARTTLS", mode: TLSOpportunistic, configure: offer, roots: true, wantTLS: true},
		{name: "auto without STARTTLS", mode: TLSOpportunistic},
		{name: "starttls required", mode: TLSStartTLS, configure: offer, roots: true, wantTLS: true},
		{name: "starttls not offered", mode: TLSStartTLS, wantOp: "STARTTLS"},
		{name: "untrusted certificate", mode: TLSOpportunistic, configure: offer, wantOp: "TLS"},
		{name: "untrusted certificate, verify off", mode: TLSStartTLS, configure: offer, insecure: true, wantTLS: true},
		{name: "none ignores STARTTLS", mode: TLSNone, configure: offer},
		{name: "implicit", mode: TLSImplicit, wrap: implicit, roots: true, wantTLS: true},
		{name: "implicit untrusted", mode: TLSImplicit, wrap: implicit, wantOp: "TLS"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := &relay{}
			addr, _ := startRelay(t, r, tt.wrap, tt.configure)
			cfg := SenderConfig{Addr: addr, TLS: tt.mode, TLSInsecureSkipVerify: tt.insecure}
			if tt.roots {
				cfg.RootCAs = roots
			}
			s := newTestSender(t, cfg)
			err := s.Send(context.Background(), "", []string{"alice@example.org"}, []byte(replyMsg))
			if tt.wantOp != "" {
				var se *SendError
				if !errors.As(err, &se) || se.Op != tt.wantOp || !IsTemporary(err) {
					t.Fatalf("err %v, want a temporary failure in %s", err, tt.wantOp)
				}
				if len(r.got()) != 0 {
					t.Error("message delivered despite the failure")
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if got := r.got(); len(got) != 1 || got[0].TLS != tt.wantTLS || got[0].Data != replyMsg {
				t.Fatalf("relay got %+v, want TLS=%v", got, tt.wantTLS)
			}
		})
	}
}

func TestSenderAuth(t *testing.T) {
	cert, roots := testCert(t)
	offer := func(s *smtp.Server) { s.TLSConfig = &tls.Config{Certificates: []tls.Certificate{cert}} }
	tests := []struct {
		name      string
		mech      string
		pass      string
		mode      TLSMode
		configure func(*smtp.Server)
		ok        bool
	}{
		{name: "plain", mech: "", pass: "secret", configure: offer, ok: true},
		{name: "login", mech: "LOGIN", pass: "secret", configure: offer, ok: true},
		{name: "wrong password", pass: "wrong", configure: offer},
		{name: "no TLS offered", pass: "secret"},
		{name: "plain text allowed with TLS none", mode: TLSNone, pass: "secret", ok: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := &relay{users: map[string]string{"vacation": "secret"}}
			addr, _ := startRelay(t, r, nil, tt.configure)
			s := newTestSender(t, SenderConfig{Addr: addr, TLS: tt.mode, RootCAs: roots,
				AuthUser: "vacation", AuthPassword: tt.pass, AuthMechanism: tt.mech})
			err := s.Send(context.Background(), "", []string{"alice@example.org"}, []byte(replyMsg))
			if !tt.ok {
				var se *SendError
				if !errors.As(err, &se) || se.Op != "AUTH" || !IsTemporary(err) {
					t.Fatalf("err %v, want a temporary AUTH failure", err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if got := r.got(); len(got) != 1 || got[0].User != "vacation" {
				t.Fatalf("relay got %+v", got)
			}
		})
	}
}

// proxyRelay is a relay behind a listener that demands a PROXY header.
func proxyRelay(t *testing.T) (*relay, string) {
	r := &relay{}
	addr, _ := startRelay(t, r, func(l net.Listener) net.Listener {
		return &proxyproto.Listener{Listener: l, ConnPolicy: func(proxyproto.ConnPolicyOptions) (proxyproto.Policy, error) {
			return proxyproto.REQUIRE, nil
		}, ReadHeaderTimeout: 10 * time.Second}
	}, nil)
	return r, addr
}

func TestSenderProxyHeader(t *testing.T) {
	tests := []struct {
		name    string
		version ProxyVersion
		source  netip.Addr
		want    string // client address the relay sees; "" = our local address
		fail    bool
	}{
		{name: "v2", version: ProxyHeaderV2},
		{name: "v1", version: ProxyHeaderV1},
		{name: "v2 explicit source", version: ProxyHeaderV2, source: netip.MustParseAddr("192.0.2.25"), want: "192.0.2.25"},
		{name: "none", version: ProxyHeaderOff, fail: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r, addr := proxyRelay(t)
			timeout := 10 * time.Second
			if tt.fail {
				timeout = 300 * time.Millisecond // the greeting never comes
			}
			s := newTestSender(t, SenderConfig{Addr: addr, Proxy: tt.version, ProxySource: tt.source, TLS: TLSNone,
				CommandTimeout: timeout})
			err := s.Send(context.Background(), "", []string{"alice@example.org"}, []byte(replyMsg))
			if tt.fail {
				if err == nil || !IsTemporary(err) {
					t.Fatalf("err %v, want a temporary failure", err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			got := r.got()
			if len(got) != 1 {
				t.Fatalf("relay got %+v", got)
			}
			host, _, _ := net.SplitHostPort(got[0].Remote)
			want := tt.want
			if want == "" {
				want = "127.0.0.1"
			}
			if host != want {
				t.Errorf("relay saw client %s, want %s", got[0].Remote, want)
			}
		})
	}
}

func TestSenderClassification(t *testing.T) {
	reply := func(code int, ec smtp.EnhancedCode) error {
		return &smtp.SMTPError{Code: code, EnhancedCode: ec, Message: "test reply"}
	}
	tests := []struct {
		name  string
		r     *relay
		to    []string
		from  string
		op    string
		code  int
		temp  bool
		cause string
	}{
		{name: "rcpt 452", r: &relay{rcptReply: func(string) error { return reply(452, smtp.EnhancedCode{4, 2, 2}) }},
			op: "RCPT TO <alice@example.org>", code: 452, temp: true, cause: CauseRelay},
		{name: "rcpt 550", r: &relay{rcptReply: func(string) error { return reply(550, smtp.EnhancedCode{5, 1, 1}) }},
			op: "RCPT TO <alice@example.org>", code: 550, cause: CauseRecipient},
		{name: "second rcpt 550", to: []string{"ok@example.org", "bad@example.org"},
			r: &relay{rcptReply: func(to string) error {
				if strings.HasPrefix(to, "bad") {
					return reply(550, smtp.EnhancedCode{5, 1, 1})
				}
				return nil
			}},
			op: "RCPT TO <bad@example.org>", code: 550, cause: CauseRecipient},
		{name: "mail 530", r: &relay{mailReply: func(string) error { return reply(530, smtp.EnhancedCode{5, 7, 0}) }},
			op: "MAIL FROM", code: 530, temp: true, cause: CauseRelay},
		// A 5xx at MAIL FROM refuses us, not the recipient (an AUTH or
		// policy change on the relay): retried, never dropped.
		{name: "mail 554", r: &relay{mailReply: func(string) error { return reply(554, smtp.EnhancedCode{5, 7, 1}) }},
			op: "MAIL FROM", code: 554, temp: true, cause: CauseRelay},
		{name: "mail 550", r: &relay{mailReply: func(string) error { return reply(550, smtp.EnhancedCode{5, 1, 8}) }},
			op: "MAIL FROM", code: 550, temp: true, cause: CauseRelay},
		{name: "mail 421", r: &relay{mailReply: func(string) error { return reply(421, smtp.EnhancedCode{4, 3, 2}) }},
			op: "MAIL FROM", code: 421, temp: true, cause: CauseRelay},
		{name: "data 451", r: &relay{dataReply: func() error { return reply(451, smtp.EnhancedCode{4, 3, 0}) }},
			op: "end of DATA", code: 451, temp: true, cause: CauseRelay},
		{name: "data 554", r: &relay{dataReply: func() error { return reply(554, smtp.EnhancedCode{5, 6, 0}) }},
			op: "end of DATA", code: 554, cause: CauseRecipient},
		{name: "bad recipient", r: &relay{}, to: []string{"a@b\r\nDATA"}, op: "envelope", cause: CauseEnvelope},
		{name: "no recipient", r: &relay{}, to: []string{}, op: "envelope", cause: CauseEnvelope},
		{name: "non-ASCII without SMTPUTF8", r: &relay{}, to: []string{"jörg@example.org"}, op: "MAIL FROM", cause: CauseSMTPUTF8},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			addr, conns := startRelay(t, tt.r, nil, nil)
			s := newTestSender(t, SenderConfig{Addr: addr})
			to := tt.to
			if to == nil {
				to = []string{"alice@example.org"}
			}
			err := s.Send(context.Background(), tt.from, to, []byte(replyMsg))
			var se *SendError
			if !errors.As(err, &se) {
				t.Fatalf("err %v, want *SendError", err)
			}
			if se.Op != tt.op || se.Code != tt.code || IsTemporary(err) != tt.temp {
				t.Errorf("got op %q code %d temporary %v (%v), want %q %d %v", se.Op, se.Code, IsTemporary(err), err, tt.op, tt.code, tt.temp)
			}
			if c := FailureCause(err); c != tt.cause {
				t.Errorf("cause %q, want %q", c, tt.cause)
			}
			if len(tt.r.got()) != 0 {
				t.Error("message delivered")
			}
			if tt.op == "envelope" {
				if conns.n.Load() != 0 {
					t.Error("connected for an envelope that cannot be sent")
				}
				return
			}
			// After a refused transaction the next message goes through, on
			// the same connection unless the relay said 421.
			tt.r.rcptReply, tt.r.mailReply, tt.r.dataReply = nil, nil, nil
			if err := s.Send(context.Background(), "", []string{"alice@example.org"}, []byte(replyMsg)); err != nil {
				t.Fatalf("next send: %v", err)
			}
			wantConns := int64(1)
			if tt.code == 421 {
				wantConns = 2
			}
			if n := conns.n.Load(); n != wantConns {
				t.Errorf("%d connections, want %d", n, wantConns)
			}
		})
	}
}

func TestSenderConnectFailure(t *testing.T) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	l.Close()
	s := newTestSender(t, SenderConfig{Addr: addr, DialTimeout: time.Second})
	err = s.Send(context.Background(), "", []string{"a@example.org"}, []byte(replyMsg))
	var se *SendError
	if !errors.As(err, &se) || se.Op != "connect" || !IsTemporary(err) {
		t.Fatalf("err %v, want a temporary connect failure", err)
	}
	if IsTemporary(nil) || !IsTemporary(errors.New("other")) {
		t.Error("IsTemporary on nil or foreign errors")
	}
}

func TestSenderReuse(t *testing.T) {
	r := &relay{rcptReply: func(to string) error {
		if strings.HasPrefix(to, "bad") {
			return &smtp.SMTPError{Code: 550, EnhancedCode: smtp.EnhancedCode{5, 1, 1}, Message: "no"}
		}
		return nil
	}}
	addr, conns := startRelay(t, r, nil, nil)
	s := newTestSender(t, SenderConfig{Addr: addr})
	ctx := context.Background()
	for i, to := range []string{"a@example.org", "bad@example.org", "b@example.org", "c@example.org"} {
		err := s.Send(ctx, "", []string{to}, []byte(replyMsg))
		if (err != nil) != strings.HasPrefix(to, "bad") {
			t.Fatalf("send %d to %s: %v", i, to, err)
		}
	}
	if n := conns.n.Load(); n != 1 {
		t.Errorf("%d connections for 4 messages, want 1", n)
	}
	if got := len(r.got()); got != 3 {
		t.Errorf("relay got %d messages, want 3", got)
	}
	r.mu.Lock()
	resets := r.resets
	r.mu.Unlock()
	if resets < 3 {
		t.Errorf("%d RSETs, want one between each transaction", resets)
	}
}

// TestSenderReconnect: a pooled connection the relay dropped is replaced.
func TestSenderReconnect(t *testing.T) {
	r := &relay{}
	addr, conns := startRelay(t, r, nil, nil)
	s := newTestSender(t, SenderConfig{Addr: addr})
	ctx := context.Background()
	if err := s.Send(ctx, "", []string{"a@example.org"}, []byte(replyMsg)); err != nil {
		t.Fatal(err)
	}
	conns.dropAll() // the relay ends the idle session
	if err := s.Send(ctx, "", []string{"b@example.org"}, []byte(replyMsg)); err != nil {
		t.Fatal(err)
	}
	if n := conns.n.Load(); n != 2 {
		t.Errorf("%d connections, want 2", n)
	}
	if len(r.got()) != 2 {
		t.Errorf("relay got %d messages", len(r.got()))
	}
}

func TestSenderContext(t *testing.T) {
	block := make(chan struct{})
	defer close(block)
	r := &relay{dataReply: func() error { <-block; return nil }}
	addr, _ := startRelay(t, r, nil, nil)
	s := newTestSender(t, SenderConfig{Addr: addr})
	ctx, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
	defer cancel()
	err := s.Send(ctx, "", []string{"a@example.org"}, []byte(replyMsg))
	if err == nil || !IsTemporary(err) || !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("err %v, want a temporary deadline error", err)
	}
}

func TestNewSenderErrors(t *testing.T) {
	for _, cfg := range []SenderConfig{
		{Addr: "no-port"},
		{Addr: "h:99999"},
		{Addr: "h:0"},
		{Addr: "h:smtp"},
		{Addr: "h:25", AuthMechanism: "CRAM-MD5", AuthUser: "u"},
		{Addr: "h:25", AuthPassword: "p"},
		{Addr: "h:25", TLS: 9},
		{Addr: "h:25", HeloName: "a b"},
	} {
		if _, err := NewSender(cfg); err == nil {
			t.Errorf("NewSender(%+v) succeeded", cfg)
		}
	}
	for s, want := range map[string]TLSMode{"": TLSOpportunistic, "none": TLSNone, "starttls": TLSStartTLS, "tls": TLSImplicit} {
		if m, err := ParseTLSMode(s); err != nil || m != want {
			t.Errorf("ParseTLSMode(%q) = %v, %v", s, m, err)
		}
	}
	for s, want := range map[string]ProxyVersion{"off": ProxyHeaderOff, "v1": ProxyHeaderV1, "v2": ProxyHeaderV2} {
		if v, err := ParseProxyVersion(s); err != nil || v != want || v.String() != s {
			t.Errorf("ParseProxyVersion(%q) = %v, %v", s, v, err)
		}
	}
	if _, err := ParseProxyVersion("v3"); err == nil {
		t.Error("ParseProxyVersion(v3) succeeded")
	}
}
