package transport

import (
	"errors"
	"fmt"
	"net"
	"net/netip"
	"time"

	proxyproto "github.com/pires/go-proxyproto"
)

// ProxyGate applies the LMTP listener's PROXY protocol options (see
// [ProxyMode]) to another server's listener, for protocols whose server
// speaks first (ManageSieve): the header is read before the greeting,
// in the connection's own goroutine.
type ProxyGate struct {
	Mode    ProxyMode
	Trusted []netip.Prefix
	// Timeout bounds the wait for a complete header; default 3s.
	Timeout time.Duration
	// Reject is called for each connection closed during PROXY
	// processing (for counting and logging); may be nil.
	Reject func(peer net.Addr, cause RejectCause, err error)
}

// Check validates the options as [NewServer] does.
func (g *ProxyGate) Check() error {
	if g.Mode < ProxyOff || g.Mode > ProxyRequired {
		return fmt.Errorf("invalid proxy mode %d", int(g.Mode))
	}
	if g.Mode == ProxyRequired && len(g.Trusted) == 0 {
		return errors.New("proxy mode required needs at least one trusted network (0.0.0.0/0,::/0 trusts all)")
	}
	return nil
}

// Listener wraps l so that connections from trusted peers must carry a
// header (and, in required mode, untrusted ones are closed at once).
func (g *ProxyGate) Listener(l net.Listener) net.Listener {
	if g.Mode == ProxyOff {
		return l
	}
	return &proxyproto.Listener{
		Listener: l,
		ConnPolicy: func(o proxyproto.ConnPolicyOptions) (proxyproto.Policy, error) {
			if proxyTrusted(o.Upstream, g.Trusted) {
				return proxyproto.REQUIRE, nil
			}
			if g.Mode == ProxyOptional {
				return proxyproto.SKIP, nil
			}
			err := fmt.Errorf("%w: %s is not in the trusted networks", proxyproto.ErrInvalidUpstream, o.Upstream)
			g.reject(o.Upstream, RejectUntrusted, err)
			return proxyproto.REJECT, err
		},
		ReadHeaderTimeout: -1, // bounded per connection in Accept
	}
}

// Accept reads the header of a connection accepted from [ProxyGate.Listener]
// when it must carry one. It returns the client's address (the header's,
// else the socket's peer) and whether a header supplied it; on error the
// connection is closed.
func (g *ProxyGate) Accept(c net.Conn) (net.Addr, bool, error) {
	pc, ok := c.(*proxyproto.Conn)
	if !ok {
		return c.RemoteAddr(), false, nil
	}
	timeout := g.Timeout
	if timeout <= 0 {
		timeout = 3 * time.Second
	}
	proxied, err := readProxyHeader(pc, timeout)
	if err != nil {
		g.reject(pc.Raw().RemoteAddr(), classifyHeaderErr(err), err)
		c.Close()
		return nil, false, fmt.Errorf("PROXY header: %w", err)
	}
	return pc.RemoteAddr(), proxied, nil
}

func (g *ProxyGate) reject(peer net.Addr, cause RejectCause, err error) {
	if g.Reject != nil {
		g.Reject(peer, cause, err)
	}
}
