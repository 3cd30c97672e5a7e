package transport

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/netip"
	"sync"
	"sync/atomic"
	"time"

	proxyproto "github.com/pires/go-proxyproto"
)

// Config configures an LMTP [Server]. Zero values take the defaults named.
type Config struct {
	// Deliverer receives every message. Required.
	Deliverer Deliverer
	// Hostname is announced in the greeting; default os.Hostname().
	Hostname string
	// MaxMessageBytes is the SIZE limit; default 50 MiB.
	MaxMessageBytes int64
	// MaxRecipients per message; default 1000.
	MaxRecipients int
	// MaxConns is the number of connections served at once; connections
	// over the limit get "421 4.3.2" and are closed. Default 256.
	MaxConns int
	// MaxConnsPerIP is the number of connections served at once from one
	// client address; more get "421 4.7.0" and are closed. Peers on unix
	// sockets and, when PROXY headers are on, peers in ProxyTrusted (a
	// proxy speaks for many clients) are not counted themselves; the
	// client address a PROXY header carries is. Default 64; negative means
	// no limit.
	MaxConnsPerIP int
	// MaxInflightBytes bounds the message bytes held in memory by all
	// sessions at once (read from DATA or BDAT and not yet answered). A
	// MAIL FROM whose SIZE would not fit, or any MAIL FROM while the budget
	// is spent, gets "452 4.3.1"; a message that runs over it while being
	// read gets 452 4.3.1 for each recipient, and the client retries later.
	// Default 4×MaxMessageBytes; negative means no bound (memory is then
	// bounded only by MaxConns×MaxMessageBytes).
	MaxInflightBytes int64
	// GreetTimeout bounds the wait for the first command of a connection,
	// shorter than ReadTimeout so that connections that never speak do
	// not hold slots; default 30 seconds.
	GreetTimeout time.Duration
	// ReadTimeout bounds the wait for each command line and for the whole
	// message after DATA; default 5 minutes.
	ReadTimeout time.Duration
	// WriteTimeout bounds each reply write; default 1 minute.
	WriteTimeout time.Duration

	// Proxy is the PROXY protocol mode; see [ProxyMode].
	Proxy ProxyMode
	// ProxyTrusted are the networks allowed to send PROXY headers. Peers on
	// unix sockets are always trusted. Required (non-empty) when Proxy is
	// ProxyRequired; use 0.0.0.0/0 and ::/0 to trust everyone.
	ProxyTrusted []netip.Prefix
	// ProxyTimeout bounds the wait for a complete header; default 3s.
	ProxyTimeout time.Duration

	// SMTP makes the server speak SMTP (EHLO, one reply after DATA or
	// the last BDAT) instead of LMTP, for a submission listener: the
	// message is accepted only when every recipient is.
	SMTP bool

	// Logger receives connection-level events; default slog.Default().
	Logger *slog.Logger
}

// Server is an LMTP server (RFC 2033) in front of a [Deliverer]. It
// speaks LHLO, PIPELINING, 8BITMIME, SMTPUTF8, ENHANCEDSTATUSCODES, SIZE,
// CHUNKING and DSN (to receive ORCPT), and answers once per recipient
// after DATA.
//
// A Server may serve several listeners at once; all methods are safe for
// concurrent use.
type Server struct {
	cfg Config
	log *slog.Logger

	ctx    context.Context // passed to the Deliverer; cancelled by Close
	cancel context.CancelFunc

	readers sync.Pool // the connections' *bufio.Reader, reused

	draining  atomic.Bool
	mu        sync.Mutex
	conns     map[*conn]struct{}
	gone      chan struct{} // closed when draining and conns is empty
	listeners []net.Listener

	active        atomic.Int64
	accepted      atomic.Uint64
	busy          atomic.Uint64
	busyIP        atomic.Uint64
	perIP         perIPCounts
	inflight      budget
	overBudget    atomic.Uint64
	refusalLog    logLimiter
	messages      atomic.Uint64
	proxyRejected [numRejectCauses]atomic.Uint64
}

// NewServer checks cfg and returns a Server ready to [Server.Serve].
func NewServer(cfg Config) (*Server, error) {
	if cfg.Deliverer == nil {
		return nil, errors.New("lmtp server: no Deliverer")
	}
	if cfg.Proxy < ProxyOff || cfg.Proxy > ProxyRequired {
		return nil, fmt.Errorf("lmtp server: invalid proxy mode %d", int(cfg.Proxy))
	}
	if cfg.Proxy == ProxyRequired && len(cfg.ProxyTrusted) == 0 {
		return nil, errors.New("lmtp server: proxy mode required needs at least one trusted network (0.0.0.0/0,::/0 trusts all)")
	}
	cfg.Hostname = localName(cfg.Hostname)
	if cfg.MaxMessageBytes <= 0 {
		cfg.MaxMessageBytes = 50 << 20
	}
	if cfg.MaxRecipients <= 0 {
		cfg.MaxRecipients = 1000
	}
	if cfg.MaxConns <= 0 {
		cfg.MaxConns = 256
	}
	if cfg.MaxConnsPerIP == 0 {
		cfg.MaxConnsPerIP = 64
	}
	if cfg.MaxInflightBytes == 0 {
		cfg.MaxInflightBytes = 4 * cfg.MaxMessageBytes
	}
	if cfg.GreetTimeout <= 0 {
		cfg.GreetTimeout = 30 * time.Second
	}
	if cfg.ReadTimeout <= 0 {
		cfg.ReadTimeout = 5 * time.Minute
	}
	if cfg.WriteTimeout <= 0 {
		cfg.WriteTimeout = time.Minute
	}
	if cfg.ProxyTimeout <= 0 {
		cfg.ProxyTimeout = 3 * time.Second
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	s := &Server{
		cfg:   cfg,
		log:   cfg.Logger,
		conns: make(map[*conn]struct{}),
	}
	s.inflight.max = cfg.MaxInflightBytes
	s.readers.New = func() any { return bufio.NewReaderSize(nil, 4096) }
	s.ctx, s.cancel = context.WithCancel(context.Background())
	return s, nil
}

// Serve accepts connections on l until l fails or the server is shut down,
// serving each in its own goroutine. It returns nil after [Server.Shutdown]
// or [Server.Close]. Serve may be called for several listeners.
func (s *Server) Serve(l net.Listener) error {
	s.mu.Lock()
	if s.draining.Load() {
		s.mu.Unlock()
		l.Close()
		return nil
	}
	s.listeners = append(s.listeners, l)
	s.mu.Unlock()
	var inner net.Listener = &limitListener{Listener: l, srv: s}
	if s.cfg.Proxy == ProxyRequired {
		inner = &proxyproto.Listener{
			Listener:          inner,
			ConnPolicy:        s.proxyPolicy,
			ReadHeaderTimeout: -1, // bounded per connection in readHeader
		}
	}
	err := s.serve(&trackListener{Listener: inner, srv: s})
	if s.draining.Load() {
		return nil // the listener was closed by Shutdown or Close
	}
	return err
}

// Shutdown stops accepting connections, closes idle ones, lets sessions
// with a transaction in progress finish it (they are closed as soon as the
// transaction ends) and returns when all connections are gone. If ctx ends
// first, the remaining connections are closed forcibly and ctx's error is
// returned.
func (s *Server) Shutdown(ctx context.Context) error {
	s.mu.Lock()
	s.draining.Store(true)
	for _, l := range s.listeners {
		l.Close()
	}
	open := make([]*conn, 0, len(s.conns))
	for c := range s.conns {
		open = append(open, c)
	}
	if s.gone == nil {
		s.gone = make(chan struct{})
		if len(s.conns) == 0 {
			close(s.gone)
		}
	}
	gone := s.gone
	s.mu.Unlock()
	// Outside s.mu and at once: closing flushes held replies, which may
	// wait for a slow client.
	for _, c := range open {
		go c.closeIfIdle()
	}
	select {
	case <-gone:
		s.cancel()
		return nil
	case <-ctx.Done():
		s.Close()
		return ctx.Err()
	}
}

// untrack forgets a closed connection.
func (s *Server) untrack(c *conn) {
	s.mu.Lock()
	defer s.mu.Unlock()
	delete(s.conns, c)
	if s.gone != nil && len(s.conns) == 0 {
		select {
		case <-s.gone:
		default:
			close(s.gone)
		}
	}
}

// Close closes all listeners and connections at once and cancels the
// context of running deliveries.
func (s *Server) Close() error {
	s.mu.Lock()
	s.draining.Store(true)
	for _, l := range s.listeners {
		l.Close()
	}
	open := make([]*conn, 0, len(s.conns))
	for c := range s.conns {
		open = append(open, c)
	}
	s.mu.Unlock()
	s.cancel()
	for _, c := range open {
		c.Close()
	}
	return nil
}

// Stats is a snapshot of the server's counters.
type Stats struct {
	Accepted uint64 // connections accepted
	Active   int64  // connections open now
	Busy     uint64 // connections refused because MaxConns were open
	// BusyPerIP counts connections refused because MaxConnsPerIP were
	// open from their address.
	BusyPerIP uint64
	// OverBudget counts MAIL FROMs and messages refused with 452 because
	// MaxInflightBytes were in flight; InflightBytes is the amount now.
	OverBudget    uint64
	InflightBytes int64
	Messages      uint64 // messages handed to the Deliverer
	// ProxyRejected counts connections closed during PROXY processing by
	// cause: "untrusted", "missing", "malformed", "timeout" (every key is
	// present), ready for a labelled counter.
	ProxyRejected map[string]uint64
}

// Stats returns the current counters.
func (s *Server) Stats() Stats {
	st := Stats{
		Accepted:      s.accepted.Load(),
		Active:        s.active.Load(),
		Busy:          s.busy.Load(),
		BusyPerIP:     s.busyIP.Load(),
		OverBudget:    s.overBudget.Load(),
		InflightBytes: s.inflight.used.Load(),
		Messages:      s.messages.Load(),
		ProxyRejected: make(map[string]uint64, numRejectCauses),
	}
	for _, c := range RejectCauses() {
		st.ProxyRejected[c.String()] = s.proxyRejected[c].Load()
	}
	return st
}
