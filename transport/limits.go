package transport

import (
	"net"
	"net/netip"
	"sync"
	"sync/atomic"
	"time"
)

// budget is the memory budget for message bytes in flight
// (Config.MaxInflightBytes); max < 0 means no bound.
type budget struct {
	max  int64
	used atomic.Int64
}

// take reserves n bytes, or reports false (reserving nothing) when they
// do not fit.
func (b *budget) take(n int64) bool {
	if b.max < 0 {
		b.used.Add(n)
		return true
	}
	for {
		u := b.used.Load()
		if u+n > b.max {
			return false
		}
		if b.used.CompareAndSwap(u, u+n) {
			return true
		}
	}
}

// give returns n reserved bytes.
func (b *budget) give(n int64) { b.used.Add(-n) }

// fits reports whether n more bytes would fit now.
func (b *budget) fits(n int64) bool {
	return b.max < 0 || b.used.Load()+n <= b.max
}

// perIPCounts counts the open connections of each client address
// (Config.MaxConnsPerIP).
type perIPCounts struct {
	mu sync.Mutex
	m  map[netip.Addr]int
}

// add counts a connection from a unless max are open already.
func (p *perIPCounts) add(a netip.Addr, max int) bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.m == nil {
		p.m = map[netip.Addr]int{}
	}
	if p.m[a] >= max {
		return false
	}
	p.m[a]++
	return true
}

// done uncounts a connection from a.
func (p *perIPCounts) done(a netip.Addr) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.m[a]--; p.m[a] <= 0 {
		delete(p.m, a)
	}
}

// limitedIP returns the address a connection from peer counts against
// for MaxConnsPerIP, and false when it is not counted: unix sockets, and
// trusted proxies when PROXY headers are on.
func (s *Server) limitedIP(peer net.Addr) (netip.Addr, bool) {
	if s.cfg.MaxConnsPerIP < 0 {
		return netip.Addr{}, false
	}
	ta, ok := peer.(*net.TCPAddr)
	if !ok {
		return netip.Addr{}, false
	}
	if s.cfg.Proxy != ProxyOff && s.trusted(peer) {
		return netip.Addr{}, false
	}
	ip, ok := netip.AddrFromSlice(ta.IP)
	return ip.Unmap(), ok
}

// logLimiter rate-limits the log lines of refusals any client can cause
// (connection limits, PROXY rejections, the memory budget): for each kind
// at most logBurst lines per logInterval; the first line let through after
// a quiet spell carries how many were held back. Counters are not limited.
type logLimiter struct {
	mu sync.Mutex
	m  map[string]*logWindow
}

type logWindow struct {
	start      time.Time
	n          int
	suppressed int
}

const (
	logBurst    = 10
	logInterval = 10 * time.Second
)

// allow reports whether a line of kind may be logged now, and how many
// were held back since the last one let through.
func (l *logLimiter) allow(kind string, now time.Time) (bool, int) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.m == nil {
		l.m = map[string]*logWindow{}
	}
	w := l.m[kind]
	if w == nil {
		w = &logWindow{start: now}
		l.m[kind] = w
	}
	if now.Sub(w.start) >= logInterval {
		w.start, w.n = now, 0
	}
	if w.n >= logBurst {
		w.suppressed++
		return false, 0
	}
	w.n++
	held := w.suppressed
	w.suppressed = 0
	return true, held
}

// warnRefusal logs a refusal of kind, rate-limited by s.refusalLog.
func (s *Server) warnRefusal(kind, msg string, args ...any) {
	ok, held := s.refusalLog.allow(kind, time.Now())
	if !ok {
		return
	}
	if held > 0 {
		args = append(args, "suppressed", held)
	}
	s.log.Warn(msg, args...)
}
