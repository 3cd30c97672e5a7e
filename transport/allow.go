package transport

import (
	"log/slog"
	"net"
	"net/netip"
)

// AllowFrom returns a listener that accepts only TCP clients whose address
// is in one of allowed, and answers the others 421 and closes their
// connections at once (logged as a warning). Peers on unix sockets are
// always accepted. An empty allowed returns l itself: everyone is accepted.
func AllowFrom(l net.Listener, allowed []netip.Prefix, log *slog.Logger) net.Listener {
	if len(allowed) == 0 {
		return l
	}
	if log == nil {
		log = slog.Default()
	}
	return &allowListener{Listener: l, allowed: allowed, log: log}
}

type allowListener struct {
	net.Listener
	allowed []netip.Prefix
	log     *slog.Logger
}

func (l *allowListener) Accept() (net.Conn, error) {
	for {
		c, err := l.Listener.Accept()
		if err != nil {
			return nil, err
		}
		if Allowed(c.RemoteAddr(), l.allowed) {
			return c, nil
		}
		l.log.Warn("connection refused: client not in the allowed networks", "listener", l.Addr().String(), "client", c.RemoteAddr().String())
		// Told why in place of the greeting: an SMTP or LMTP client
		// logs the reply, where a bare close reads as a lost connection.
		go refuse(c, "421 4.7.0 Client address not allowed, closing connection")
	}
}

// Allowed reports whether a client address is in one of the prefixes; a
// peer that is not TCP (a unix socket) always is.
func Allowed(a net.Addr, prefixes []netip.Prefix) bool {
	ta, ok := a.(*net.TCPAddr)
	if !ok {
		return true
	}
	ip, ok := netip.AddrFromSlice(ta.IP)
	if !ok {
		return false
	}
	ip = ip.Unmap()
	for _, p := range prefixes {
		if p.Contains(ip) {
			return true
		}
	}
	return false
}
