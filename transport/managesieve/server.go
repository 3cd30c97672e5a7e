package managesieve

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/netip"
	"sync"
	"sync/atomic"
	"time"

	"github.com/vacationd/vacationd/transport"
)

// Config configures a [Server]. Zero values take the defaults named.
type Config struct {
	// Backend logs users in. Required.
	Backend Backend
	// Implementation is the IMPLEMENTATION capability; default
	// "vacationd".
	Implementation string
	// Extensions, Notify and MaxRedirects are the initial
	// [Capabilities] (see [Server.SetCapabilities]).
	Extensions   []string
	Notify       []string
	MaxRedirects int
	// TLS enables STARTTLS; nil leaves it out.
	TLS *tls.Config
	// Trusted are the networks (besides loopback, always trusted) whose
	// clients may log in with a plaintext mechanism before STARTTLS.
	Trusted []netip.Prefix

	// MaxLine bounds a command line without its literals; default 8 KiB.
	MaxLine int64
	// MaxScriptSize bounds a literal (a script); default 1 MiB, as
	// Pigeonhole's sieve_max_script_size. It is announced in the
	// QUOTA/MAXSIZE response.
	MaxScriptSize int64
	// MaxConns bounds the connections served at once (default 256) and
	// MaxConnsPerIP those from one client address (default 10).
	MaxConns, MaxConnsPerIP int
	// AuthFailDelay is the pause before answering a failed login;
	// default 2s, as Dovecot's auth_failure_delay.
	AuthFailDelay time.Duration
	// MaxAuthFails ends the session after this many failed logins;
	// default 3.
	MaxAuthFails int
	// IdleTimeout bounds the wait for each command; default 10 minutes.
	IdleTimeout time.Duration
	// LoginTimeout bounds the time from connecting to logging in;
	// default 3 minutes, as Dovecot's login processes.
	LoginTimeout time.Duration
	// WriteTimeout bounds each response write; default 1 minute.
	WriteTimeout time.Duration

	// Proxy applies the PROXY protocol options of the LMTP listener.
	Proxy transport.ProxyGate

	// Logger receives connection events; default slog.Default(). No
	// password or SASL response is ever logged.
	Logger *slog.Logger
}

// Server is a ManageSieve server. Serve may be called for several
// listeners; all methods are safe for concurrent use.
type Server struct {
	cfg Config
	log *slog.Logger

	ctx    context.Context // passed to the Backend; cancelled by Close
	cancel context.CancelFunc

	mu        sync.Mutex
	draining  bool
	listeners []net.Listener
	conns     map[*conn]struct{}
	perIP     map[netip.Addr]int
	wg        sync.WaitGroup

	caps atomic.Pointer[Capabilities] // see SetCapabilities

	accepted, refused, authFailed atomic.Uint64
}

// Capabilities are the Sieve-related capabilities a server announces.
type Capabilities struct {
	// Extensions, Notify and MaxRedirects are the initial
	// [Capabilities] (see [Server.SetCapabilities]).
	Extensions   []string
	Notify       []string
	MaxRedirects int
}

// SetCapabilities replaces what the server announces from the next
// CAPABILITY response on (after a reload changed the extensions).
func (s *Server) SetCapabilities(c Capabilities) { s.caps.Store(&c) }

// NewServer checks cfg and returns a Server.
func NewServer(cfg Config) (*Server, error) {
	if cfg.Backend == nil {
		return nil, errors.New("managesieve: no Backend")
	}
	if err := cfg.Proxy.Check(); err != nil {
		return nil, fmt.Errorf("managesieve: %w", err)
	}
	if cfg.Implementation == "" {
		cfg.Implementation = "vacationd"
	}
	if cfg.MaxLine <= 0 {
		cfg.MaxLine = 8 << 10
	}
	if cfg.MaxScriptSize <= 0 {
		cfg.MaxScriptSize = 1 << 20
	}
	if cfg.MaxConns <= 0 {
		cfg.MaxConns = 256
	}
	if cfg.MaxConnsPerIP <= 0 {
		cfg.MaxConnsPerIP = 10
	}
	if cfg.AuthFailDelay == 0 {
		cfg.AuthFailDelay = 2 * time.Second
	}
	if cfg.MaxAuthFails <= 0 {
		cfg.MaxAuthFails = 3
	}
	if cfg.IdleTimeout <= 0 {
		cfg.IdleTimeout = 10 * time.Minute
	}
	if cfg.LoginTimeout <= 0 {
		cfg.LoginTimeout = 3 * time.Minute
	}
	if cfg.WriteTimeout <= 0 {
		cfg.WriteTimeout = time.Minute
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	s := &Server{cfg: cfg, log: cfg.Logger, conns: map[*conn]struct{}{}, perIP: map[netip.Addr]int{}}
	s.SetCapabilities(Capabilities{Extensions: cfg.Extensions, Notify: cfg.Notify, MaxRedirects: cfg.MaxRedirects})
	s.ctx, s.cancel = context.WithCancel(context.Background())
	return s, nil
}

// Serve accepts connections on l until it fails or the server shuts
// down; it returns nil after [Server.Shutdown] or [Server.Close].
func (s *Server) Serve(l net.Listener) error {
	s.mu.Lock()
	if s.draining {
		s.mu.Unlock()
		l.Close()
		return nil
	}
	s.listeners = append(s.listeners, l)
	s.mu.Unlock()
	pl := s.cfg.Proxy.Listener(l)
	for {
		c, err := pl.Accept()
		if err != nil {
			s.mu.Lock()
			draining := s.draining
			s.mu.Unlock()
			if draining {
				return nil
			}
			var ne net.Error
			if errors.As(err, &ne) && ne.Timeout() {
				time.Sleep(10 * time.Millisecond)
				continue
			}
			return fmt.Errorf("managesieve accept: %w", err)
		}
		s.wg.Add(1)
		go func() {
			defer s.wg.Done()
			s.serveConn(c)
		}()
	}
}

// serveConn runs the PROXY gate and the per-IP limit, then the session.
func (s *Server) serveConn(nc net.Conn) {
	remote, proxied, err := s.cfg.Proxy.Accept(nc)
	if err != nil {
		return
	}
	c := newConn(s, nc, addrPort(remote), addrPort(nc.LocalAddr()), proxied)
	ip := c.remote.Addr()
	s.mu.Lock()
	over := ""
	switch {
	case s.draining:
		over = "Server shutting down."
	case len(s.conns) >= s.cfg.MaxConns:
		over = "Too many connections, try again later."
	case s.perIP[ip] >= s.cfg.MaxConnsPerIP:
		over = "Too many connections from your IP address."
	}
	if over == "" {
		s.conns[c] = struct{}{}
		s.perIP[ip]++
	}
	s.mu.Unlock()
	if over != "" {
		s.refused.Add(1)
		s.log.Warn("managesieve: connection refused", "remote", c.remote.String(), "reason", over)
		nc.SetWriteDeadline(time.Now().Add(time.Second))
		fmt.Fprintf(nc, "BYE %s\r\n", quote(over))
		nc.Close()
		return
	}
	s.accepted.Add(1)
	defer func() {
		s.mu.Lock()
		delete(s.conns, c)
		if s.perIP[ip]--; s.perIP[ip] <= 0 {
			delete(s.perIP, ip)
		}
		s.mu.Unlock()
	}()
	c.serve()
}

func addrPort(a net.Addr) netip.AddrPort {
	if t, ok := a.(*net.TCPAddr); ok {
		ap := t.AddrPort()
		return netip.AddrPortFrom(ap.Addr().Unmap(), ap.Port())
	}
	return netip.AddrPort{}
}

// Shutdown stops accepting connections and ends every session at its next
// command (a command in progress finishes), with BYE. It returns when all
// are gone, or closes the rest when ctx ends first.
func (s *Server) Shutdown(ctx context.Context) error {
	s.mu.Lock()
	s.draining = true
	for _, l := range s.listeners {
		l.Close()
	}
	for c := range s.conns {
		c.interrupt()
	}
	s.mu.Unlock()
	done := make(chan struct{})
	go func() {
		s.wg.Wait()
		close(done)
	}()
	select {
	case <-done:
		s.cancel()
		return nil
	case <-ctx.Done():
		s.Close()
		return ctx.Err()
	}
}

// Close closes all listeners and connections at once.
func (s *Server) Close() error {
	s.mu.Lock()
	s.draining = true
	for _, l := range s.listeners {
		l.Close()
	}
	for c := range s.conns {
		c.raw.Close()
	}
	s.mu.Unlock()
	s.cancel()
	return nil
}

// Stats is a snapshot of the server's counters.
type Stats struct {
	Accepted, Refused, AuthFailed uint64
	Active                        int
}

// Stats returns the current counters.
func (s *Server) Stats() Stats {
	s.mu.Lock()
	n := len(s.conns)
	s.mu.Unlock()
	return Stats{Accepted: s.accepted.Load(), Refused: s.refused.Load(), AuthFailed: s.authFailed.Load(), Active: n}
}

// trusted reports whether a client may use a plaintext mechanism without
// TLS: loopback, or a configured network.
func (s *Server) trusted(a netip.Addr) bool {
	if !a.IsValid() || a.IsLoopback() { // a unix socket, or loopback
		return true
	}
	for _, p := range s.cfg.Trusted {
		if p.Contains(a) {
			return true
		}
	}
	return false
}
