package transport

import (
	"context"
	"net"
	"net/netip"
	"strings"
	"testing"
	"time"

	proxyproto "github.com/pires/go-proxyproto"

	"github.com/vacationd/vacationd/internal/peertest"
)

// These tests run a real HAProxy between the peers; they skip when the
// haproxy binary is absent.

// TestHAProxySendProxy: HAProxy with send-proxy / send-proxy-v2 in front of
// the LMTP server with --proxy required.
func TestHAProxySendProxy(t *testing.T) {
	for _, opt := range []string{"send-proxy", "send-proxy-v2"} {
		t.Run(opt, func(t *testing.T) {
			rec := &recorder{}
			srv, lmtpAddr := startServer(t, Config{Deliverer: rec, Proxy: ProxyRequired,
				ProxyTrusted: []netip.Prefix{netip.MustParsePrefix("127.0.0.0/8")}})
			front := peertest.StartHAProxy(t, 5*time.Second, peertest.HAProxy{Backend: lmtpAddr, Server: opt})
			lc := dialLine(t, "tcp", front)
			lc.expect(220)
			lc.transaction("client.test", "a@example.org", "b@example.com", "Subject: via haproxy\r\n\r\nx\r\n")
			lc.expect(250)
			env, _ := rec.last(t)
			if env.ClientAddr.String() != lc.c.LocalAddr().String() || !env.Proxied {
				t.Errorf("client %v proxied=%v, want %v from the header", env.ClientAddr, env.Proxied, lc.c.LocalAddr())
			}
			for cause, n := range srv.Stats().ProxyRejected {
				if n != 0 {
					t.Errorf("%d rejections for %s", n, cause)
				}
			}
		})
	}
}

// TestHAProxyAcceptProxy: the Sender's PROXY v2 header is accepted by an
// HAProxy accept-proxy bind, which passes the source on to the relay; a
// Sender without the header gets a temporary failure.
func TestHAProxyAcceptProxy(t *testing.T) {
	r := &relay{}
	relayAddr, _ := startRelay(t, r, func(l net.Listener) net.Listener {
		return &proxyproto.Listener{Listener: l, ConnPolicy: func(proxyproto.ConnPolicyOptions) (proxyproto.Policy, error) {
			return proxyproto.REQUIRE, nil
		}, ReadHeaderTimeout: 5 * time.Second}
	}, nil)
	front := peertest.StartHAProxy(t, 5*time.Second, peertest.HAProxy{Bind: "accept-proxy", Backend: relayAddr, Server: "send-proxy-v2"})

	s := newTestSender(t, SenderConfig{Addr: front, Proxy: ProxyHeaderV2, ProxySource: netip.MustParseAddr("192.0.2.25"),
		CommandTimeout: 5 * time.Second})
	if err := s.Send(context.Background(), "", []string{"alice@example.org"}, []byte(replyMsg)); err != nil {
		t.Fatal(err)
	}
	got := r.got()
	if len(got) != 1 || !strings.HasPrefix(got[0].Remote, "192.0.2.25:") {
		t.Fatalf("relay got %+v, want one message from 192.0.2.25", got)
	}

	// HAProxy waits for the header, the Sender for the greeting: the
	// greeting times out, as it did for Dovecot in the bug report.
	plain := newTestSender(t, SenderConfig{Addr: front, CommandTimeout: 500 * time.Millisecond})
	err := plain.Send(context.Background(), "", []string{"alice@example.org"}, []byte(replyMsg))
	if err == nil || !IsTemporary(err) {
		t.Fatalf("without a header: err %v, want a temporary failure", err)
	}
}
