package transport

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"os"
	"strings"
	"time"

	proxyproto "github.com/pires/go-proxyproto"
)

// ProxyMode says whether the LMTP server expects PROXY protocol headers.
type ProxyMode int

const (
	// ProxyOff serves every connection as it is; a PROXY header is not
	// looked for (and would be a syntax error).
	ProxyOff ProxyMode = iota
	// ProxyOptional serves every peer at once, without waiting for a
	// header, and decides from the first bytes the peer sends: a peer in the
	// trusted networks may start with a header (HAProxy's send-proxy) or
	// with LHLO (Postfix on the same network); a header sent by an
	// untrusted peer closes the connection. The greeting goes out first,
	// since an LMTP client without a header waits for it.
	ProxyOptional
	// ProxyRequired requires a header on every connection; connections from
	// peers outside the trusted networks are closed at once.
	ProxyRequired
)

// ParseProxyMode parses "off", "optional" or "required".
func ParseProxyMode(s string) (ProxyMode, error) {
	switch strings.ToLower(strings.TrimSpace(s)) {
	case "off", "":
		return ProxyOff, nil
	case "optional":
		return ProxyOptional, nil
	case "required":
		return ProxyRequired, nil
	}
	return ProxyOff, fmt.Errorf("proxy mode %q: want off, optional or required", s)
}

// String returns "off", "optional" or "required".
func (m ProxyMode) String() string {
	switch m {
	case ProxyOff:
		return "off"
	case ProxyOptional:
		return "optional"
	case ProxyRequired:
		return "required"
	}
	return fmt.Sprintf("ProxyMode(%d)", int(m))
}

// ParsePrefixes parses a comma-separated list of CIDR prefixes or bare IP
// addresses (taken as /32 or /128), e.g. "10.0.0.0/8, ::1".
func ParsePrefixes(s string) ([]netip.Prefix, error) {
	var out []netip.Prefix
	for _, f := range strings.Split(s, ",") {
		f = strings.TrimSpace(f)
		if f == "" {
			continue
		}
		if strings.Contains(f, "/") {
			p, err := netip.ParsePrefix(f)
			if err != nil {
				return nil, fmt.Errorf("trusted network %q: %w", f, err)
			}
			out = append(out, p.Masked())
			continue
		}
		a, err := netip.ParseAddr(f)
		if err != nil {
			return nil, fmt.Errorf("trusted network %q: %w", f, err)
		}
		out = append(out, netip.PrefixFrom(a, a.BitLen()))
	}
	return out, nil
}

// RejectCause says why a connection was closed during PROXY processing.
type RejectCause int

const (
	// RejectUntrusted: the peer is outside the trusted networks and either
	// a header is required or it sent one.
	RejectUntrusted RejectCause = iota
	// RejectMissing: a trusted peer sent data that is not a PROXY header, or
	// closed the connection before sending one.
	RejectMissing
	// RejectMalformed: the header started with a PROXY signature but did
	// not parse.
	RejectMalformed
	// RejectTimeout: no complete header arrived within the header timeout.
	RejectTimeout

	numRejectCauses
)

// RejectCauses lists every RejectCause, for publishing counters.
func RejectCauses() []RejectCause {
	return []RejectCause{RejectUntrusted, RejectMissing, RejectMalformed, RejectTimeout}
}

// String returns "untrusted", "missing", "malformed" or "timeout".
func (c RejectCause) String() string {
	switch c {
	case RejectUntrusted:
		return "untrusted"
	case RejectMissing:
		return "missing"
	case RejectMalformed:
		return "malformed"
	case RejectTimeout:
		return "timeout"
	}
	return fmt.Sprintf("RejectCause(%d)", int(c))
}

// classifyHeaderErr maps an error from reading a PROXY header to its cause.
func classifyHeaderErr(err error) RejectCause {
	var ne net.Error
	if errors.Is(err, os.ErrDeadlineExceeded) || (errors.As(err, &ne) && ne.Timeout()) {
		return RejectTimeout
	}
	if errors.Is(err, proxyproto.ErrNoProxyProtocol) {
		return RejectMissing
	}
	return RejectMalformed
}

// trusted reports whether a peer may send a PROXY header.
func (s *Server) trusted(a net.Addr) bool { return proxyTrusted(a, s.cfg.ProxyTrusted) }

// proxyTrusted reports whether a peer is in the trusted networks. Peers
// on unix sockets are trusted: the socket's file permissions decide who
// connects.
func proxyTrusted(a net.Addr, trusted []netip.Prefix) bool {
	switch a := a.(type) {
	case *net.UnixAddr, *UnixPeer:
		return true
	case *net.TCPAddr:
		ip, ok := netip.AddrFromSlice(a.IP)
		if !ok {
			return false
		}
		ip = ip.Unmap()
		for _, p := range trusted {
			if p.Contains(ip) {
				return true
			}
		}
	}
	return false
}

// proxyPolicy decides, per accepted socket of a ProxyRequired server,
// whether a header is required (REQUIRE) or the peer is refused.
// ProxyOptional servers sniff the first bytes instead (see conn.Read).
func (s *Server) proxyPolicy(o proxyproto.ConnPolicyOptions) (proxyproto.Policy, error) {
	if s.trusted(o.Upstream) {
		return proxyproto.REQUIRE, nil
	}
	err := fmt.Errorf("%w: %s is not in the trusted networks", proxyproto.ErrInvalidUpstream, o.Upstream)
	s.rejectProxy(o.Upstream, RejectUntrusted, err)
	return proxyproto.REJECT, err
}

// rejectProxy counts and logs a connection closed during PROXY processing.
func (s *Server) rejectProxy(peer net.Addr, cause RejectCause, err error) {
	s.proxyRejected[cause].Add(1)
	s.warnRefusal("proxy-"+cause.String(), "lmtp: PROXY header rejected, connection closed",
		"peer", peer.String(), "cause", cause.String(), "err", err)
}

// readHeader runs the header read of a connection that must carry one,
// bounded by the header timeout. It returns whether the header carried a
// client address (PROXY rather than LOCAL/UNKNOWN).
func (s *Server) readHeader(pc *proxyproto.Conn) (bool, error) {
	return readProxyHeader(pc, s.cfg.ProxyTimeout)
}

func readProxyHeader(pc *proxyproto.Conn, timeout time.Duration) (bool, error) {
	// The Listener's own timeout is disabled (negative) so that a timeout
	// surfaces as a timeout rather than as "no header".
	if err := pc.SetReadDeadline(time.Now().Add(timeout)); err != nil {
		return false, err
	}
	// A zero-length read runs header processing and returns its error
	// without consuming data.
	if _, err := pc.Read(nil); err != nil {
		return false, err
	}
	if err := pc.SetReadDeadline(time.Time{}); err != nil {
		return false, err
	}
	h := pc.ProxyHeader()
	return h != nil && h.Command.IsProxy(), nil
}

// readOptionalHeader reads the PROXY header a trusted peer of a
// ProxyOptional server started with, bounded by the header timeout. It
// returns the client address the header carried, or nil for LOCAL and
// UNKNOWN headers.
func (s *Server) readOptionalHeader(c net.Conn, br *bufio.Reader) (net.Addr, error) {
	if err := c.SetReadDeadline(time.Now().Add(s.cfg.ProxyTimeout)); err != nil {
		return nil, err
	}
	h, err := proxyproto.Read(br)
	if err != nil {
		return nil, err
	}
	if err := c.SetReadDeadline(time.Time{}); err != nil {
		return nil, err
	}
	if !h.Command.IsProxy() {
		return nil, nil
	}
	return h.SourceAddr, nil
}

// looksLikeProxyHeader reports whether the first bytes a client sent are
// the start of a PROXY v1 or v2 header.
func looksLikeProxyHeader(br *bufio.Reader) bool {
	if _, err := br.Peek(1); err != nil {
		return false
	}
	b, _ := br.Peek(br.Buffered())
	for _, sig := range [][]byte{proxyproto.SIGV1, proxyproto.SIGV2} {
		n := min(len(b), len(sig))
		if bytes.Equal(b[:n], sig[:n]) {
			return true
		}
	}
	return false
}
