package transport

import (
	"bytes"
	"net"
	"net/netip"
	"strings"
	"testing"
	"time"

	proxyproto "github.com/pires/go-proxyproto"
)

func v2Header(t *testing.T, cmd proxyproto.ProtocolVersionAndCommand, src, dst string, tlvs []proxyproto.TLV) []byte {
	t.Helper()
	h := &proxyproto.Header{Version: 2, Command: cmd, TransportProtocol: proxyproto.UNSPEC}
	if src != "" {
		s, d := net.TCPAddrFromAddrPort(netip.MustParseAddrPort(src)), net.TCPAddrFromAddrPort(netip.MustParseAddrPort(dst))
		h = proxyproto.HeaderProxyFromAddrs(2, s, d)
		h.Command = cmd
	}
	if tlvs != nil {
		if err := h.SetTLVs(tlvs); err != nil {
			t.Fatal(err)
		}
	}
	var b bytes.Buffer
	if _, err := h.WriteTo(&b); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

func TestProxy(t *testing.T) {
	loopback := []netip.Prefix{netip.MustParsePrefix("127.0.0.0/8")}
	elsewhere := []netip.Prefix{netip.MustParsePrefix("10.0.0.0/8")}
	tlvs := []proxyproto.TLV{{Type: proxyproto.PP2_TYPE_AUTHORITY, Value: []byte("mx.example.com")}}
	tests := []struct {
		name    string
		mode    ProxyMode
		trusted []netip.Prefix
		send    func(t *testing.T) []byte // written right after connecting
		// Either served with this client address (and proxied flag) ...
		client  string // "" = the socket's own address
		proxied bool
		// ... or closed for this cause (after the greeting if greeted).
		cause   *RejectCause
		greeted bool
		// noWait: the header timeout is a minute, so the client is only
		// served in time if the server decides without waiting for it.
		noWait bool
	}{
		{name: "v1 trusted", mode: ProxyRequired, trusted: loopback,
			send:   func(*testing.T) []byte { return []byte("PROXY TCP4 192.0.2.7 198.51.100.1 4567 2424\r\n") },
			client: "192.0.2.7:4567", proxied: true},
		{name: "v1 tcp6 trusted", mode: ProxyRequired, trusted: loopback,
			send:   func(*testing.T) []byte { return []byte("PROXY TCP6 2001:db8::7 2001:db8::1 4567 2424\r\n") },
			client: "[2001:db8::7]:4567", proxied: true},
		{name: "v2 trusted", mode: ProxyRequired, trusted: loopback,
			send: func(t *testing.T) []byte {
				return v2Header(t, proxyproto.PROXY, "203.0.113.9:1234", "198.51.100.1:2424", nil)
			},
			client: "203.0.113.9:1234", proxied: true},
		{name: "v2 with TLVs", mode: ProxyRequired, trusted: loopback,
			send: func(t *testing.T) []byte {
				return v2Header(t, proxyproto.PROXY, "[2001:db8::9]:1234", "[2001:db8::1]:2424", tlvs)
			},
			client: "[2001:db8::9]:1234", proxied: true},
		{name: "v2 LOCAL", mode: ProxyRequired, trusted: loopback,
			send: func(t *testing.T) []byte { return v2Header(t, proxyproto.LOCAL, "", "", nil) }},
		{name: "v1 UNKNOWN", mode: ProxyRequired, trusted: loopback,
			send: func(*testing.T) []byte { return []byte("PROXY UNKNOWN\r\n") }},
		{name: "untrusted", mode: ProxyRequired, trusted: elsewhere,
			send:  func(*testing.T) []byte { return []byte("PROXY TCP4 192.0.2.7 198.51.100.1 4567 2424\r\n") },
			cause: ptr(RejectUntrusted)},
		{name: "missing", mode: ProxyRequired, trusted: loopback,
			send:  func(*testing.T) []byte { return []byte("LHLO early.talker\r\n") },
			cause: ptr(RejectMissing)},
		{name: "closed before header", mode: ProxyRequired, trusted: loopback,
			send:  nil, // the client half-closes at once
			cause: ptr(RejectMissing)},
		{name: "malformed v1", mode: ProxyRequired, trusted: loopback,
			send:  func(*testing.T) []byte { return []byte("PROXY TCP4 192.0.2.300 198.51.100.1 4567 2424\r\n") },
			cause: ptr(RejectMalformed)},
		{name: "malformed v2", mode: ProxyRequired, trusted: loopback,
			send: func(t *testing.T) []byte {
				h := v2Header(t, proxyproto.PROXY, "203.0.113.9:1234", "198.51.100.1:2424", nil)
				h[13] = 0x13 // undefined family/transport byte
				return h
			},
			cause: ptr(RejectMalformed)},
		{name: "slow", mode: ProxyRequired, trusted: loopback,
			send:  func(*testing.T) []byte { return []byte{} },
			cause: ptr(RejectTimeout)},
		{name: "partial v2", mode: ProxyRequired, trusted: loopback,
			send: func(t *testing.T) []byte {
				return v2Header(t, proxyproto.PROXY, "203.0.113.9:1234", "198.51.100.1:2424", nil)[:20]
			},
			cause: ptr(RejectTimeout)},
		{name: "optional trusted with header", mode: ProxyOptional, trusted: loopback,
			send:   func(*testing.T) []byte { return []byte("PROXY TCP4 192.0.2.7 198.51.100.1 4567 2424\r\n") },
			client: "192.0.2.7:4567", proxied: true},
		// A trusted peer without a header (Postfix's lmtp client on the
		// same network) is greeted at once and served.
		{name: "optional trusted without header", mode: ProxyOptional, trusted: loopback,
			send: func(*testing.T) []byte { return []byte{} }, noWait: true},
		{name: "optional trusted with v2 header", mode: ProxyOptional, trusted: loopback,
			send: func(t *testing.T) []byte {
				return v2Header(t, proxyproto.PROXY, "203.0.113.9:1234", "198.51.100.1:2424", nil)
			},
			client: "203.0.113.9:1234", proxied: true, noWait: true},
		{name: "optional trusted v2 LOCAL", mode: ProxyOptional, trusted: loopback,
			send: func(t *testing.T) []byte { return v2Header(t, proxyproto.LOCAL, "", "", nil) }, noWait: true},
		{name: "optional trusted malformed v1", mode: ProxyOptional, trusted: loopback,
			send:  func(*testing.T) []byte { return []byte("PROXY TCP4 192.0.2.300 198.51.100.1 4567 2424\r\n") },
			cause: ptr(RejectMalformed), greeted: true},
		{name: "optional trusted partial v2", mode: ProxyOptional, trusted: loopback,
			send: func(t *testing.T) []byte {
				return v2Header(t, proxyproto.PROXY, "203.0.113.9:1234", "198.51.100.1:2424", nil)[:20]
			},
			cause: ptr(RejectTimeout), greeted: true},
		{name: "optional untrusted without header", mode: ProxyOptional, trusted: elsewhere,
			send: func(*testing.T) []byte { return []byte{} }},
		{name: "optional untrusted with v1 header", mode: ProxyOptional, trusted: elsewhere,
			send:  func(*testing.T) []byte { return []byte("PROXY TCP4 192.0.2.7 198.51.100.1 4567 2424\r\n") },
			cause: ptr(RejectUntrusted), greeted: true},
		{name: "optional untrusted with v2 header", mode: ProxyOptional, trusted: elsewhere,
			send: func(t *testing.T) []byte {
				return v2Header(t, proxyproto.PROXY, "203.0.113.9:1234", "198.51.100.1:2424", nil)
			},
			cause: ptr(RejectUntrusted), greeted: true},
		{name: "off", mode: ProxyOff,
			send: func(*testing.T) []byte { return []byte{} }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rec := &recorder{}
			log, logs := testLogger(t)
			// Short only where the timeout is under test: a loaded machine
			// may take a while between connecting and sending the header.
			timeout := 10 * time.Second
			if tt.cause != nil && *tt.cause == RejectTimeout {
				timeout = 200 * time.Millisecond
			}
			if tt.noWait {
				timeout = time.Minute
			}
			srv, addr := startServer(t, Config{
				Deliverer: rec, Proxy: tt.mode, ProxyTrusted: tt.trusted,
				ProxyTimeout: timeout, Logger: log,
			})
			lc := dialLine(t, "tcp", addr)
			if tt.send == nil {
				lc.c.(*net.TCPConn).CloseWrite()
			} else {
				lc.send(string(tt.send(t)))
			}
			if tt.cause != nil {
				if tt.greeted {
					// An untrusted peer is served without waiting for a
					// header, so the greeting goes out first.
					lc.expect(220)
				}
				if !lc.closed() {
					t.Fatal("connection was served")
				}
				waitFor(t, func() bool { return srv.Stats().ProxyRejected[tt.cause.String()] == 1 })
				for c, n := range srv.Stats().ProxyRejected {
					if c != tt.cause.String() && n != 0 {
						t.Errorf("cause %s counted %d times", c, n)
					}
				}
				line := logs.String()
				if !strings.Contains(line, "peer="+lc.c.LocalAddr().String()) || !strings.Contains(line, "cause="+tt.cause.String()) {
					t.Errorf("log does not name peer %s and cause %s:\n%s", lc.c.LocalAddr(), tt.cause, line)
				}
				return
			}
			lc.expect(220)
			lc.transaction("proxied.test", "a@example.org", "b@example.com", "x\r\n")
			lc.expect(250)
			env, _ := rec.last(t)
			want := tt.client
			if want == "" {
				want = lc.c.LocalAddr().String()
			}
			if env.ClientAddr.String() != want || env.Proxied != tt.proxied {
				t.Errorf("client %s proxied=%v, want %s proxied=%v", env.ClientAddr, env.Proxied, want, tt.proxied)
			}
			for c, n := range srv.Stats().ProxyRejected {
				if n != 0 {
					t.Errorf("cause %s counted %d times", c, n)
				}
			}
		})
	}
}

func ptr[T any](v T) *T { return &v }

func TestParseProxy(t *testing.T) {
	for _, s := range []string{"off", "optional", "required"} {
		m, err := ParseProxyMode(s)
		if err != nil || m.String() != s {
			t.Errorf("ParseProxyMode(%q) = %v, %v", s, m, err)
		}
	}
	if _, err := ParseProxyMode("yes"); err == nil {
		t.Error("ParseProxyMode(yes) succeeded")
	}
	p, err := ParsePrefixes("10.0.0.0/8, 192.0.2.1,::1 ,2001:db8::/32")
	if err != nil || len(p) != 4 || p[1].String() != "192.0.2.1/32" || p[2].String() != "::1/128" {
		t.Errorf("ParsePrefixes = %v, %v", p, err)
	}
	if _, err := ParsePrefixes("10.0.0.0/33"); err == nil || !strings.Contains(err.Error(), "10.0.0.0/33") {
		t.Errorf("bad prefix error %v", err)
	}
}

// TestProxyUnixSocket: a peer on a unix socket is trusted to send a header.
func TestProxyUnixSocket(t *testing.T) {
	rec := &recorder{}
	sock := t.TempDir() + "/lmtp.sock"
	l, err := Listen("unix:" + sock)
	if err != nil {
		t.Fatal(err)
	}
	serveOn(t, Config{Deliverer: rec, Proxy: ProxyRequired, ProxyTrusted: []netip.Prefix{netip.MustParsePrefix("10.0.0.0/8")}}, l)
	lc := dialLine(t, "unix", sock)
	lc.send("PROXY TCP4 192.0.2.7 198.51.100.1 4567 2424\r\n")
	lc.expect(220)
	lc.transaction("c", "a@example.org", "b@example.com", "x\r\n")
	lc.expect(250)
	if env, _ := rec.last(t); env.ClientAddr.String() != "192.0.2.7:4567" {
		t.Errorf("client %s", env.ClientAddr)
	}
}
