package transport

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/netip"
	"strconv"
	"strings"
	"time"

	"github.com/emersion/go-sasl"
	"github.com/emersion/go-smtp"
	proxyproto "github.com/pires/go-proxyproto"
)

// TLSMode says how a [Sender] protects its connection to the relay.
type TLSMode int

const (
	// TLSOpportunistic uses STARTTLS when the relay offers it and plain
	// text otherwise. The default.
	TLSOpportunistic TLSMode = iota
	// TLSNone never uses TLS.
	TLSNone
	// TLSStartTLS requires STARTTLS; a relay that does not offer it is a
	// temporary failure.
	TLSStartTLS
	// TLSImplicit speaks TLS from the first byte (submissions, port 465).
	TLSImplicit
)

// ParseTLSMode parses "none", "starttls", "tls", or "" / "auto" for
// TLSOpportunistic.
func ParseTLSMode(s string) (TLSMode, error) {
	switch strings.ToLower(strings.TrimSpace(s)) {
	case "", "auto":
		return TLSOpportunistic, nil
	case "none":
		return TLSNone, nil
	case "starttls":
		return TLSStartTLS, nil
	case "tls":
		return TLSImplicit, nil
	}
	return TLSOpportunistic, fmt.Errorf("relay TLS mode %q: want none, starttls or tls", s)
}

// String returns "auto", "none", "starttls" or "tls".
func (m TLSMode) String() string {
	switch m {
	case TLSOpportunistic:
		return "auto"
	case TLSNone:
		return "none"
	case TLSStartTLS:
		return "starttls"
	case TLSImplicit:
		return "tls"
	}
	return fmt.Sprintf("TLSMode(%d)", int(m))
}

// ProxyVersion selects the PROXY header a [Sender] writes, if any.
type ProxyVersion int

const (
	ProxyHeaderOff ProxyVersion = iota // no header (the default)
	ProxyHeaderV1                      // text header, "PROXY TCP4 ..."
	ProxyHeaderV2                      // binary header, as HAProxy's send-proxy-v2
)

// String returns "off", "v1" or "v2".
func (v ProxyVersion) String() string {
	switch v {
	case ProxyHeaderOff:
		return "off"
	case ProxyHeaderV1:
		return "v1"
	case ProxyHeaderV2:
		return "v2"
	}
	return fmt.Sprintf("ProxyVersion(%d)", int(v))
}

// ParseProxyVersion parses "off", "v1" or "v2".
func ParseProxyVersion(s string) (ProxyVersion, error) {
	switch strings.ToLower(strings.TrimSpace(s)) {
	case "", "off":
		return ProxyHeaderOff, nil
	case "v1":
		return ProxyHeaderV1, nil
	case "v2":
		return ProxyHeaderV2, nil
	}
	return ProxyHeaderOff, fmt.Errorf("relay PROXY version %q: want off, v1 or v2", s)
}

// SenderConfig configures a [Sender]. Zero values take the defaults named.
type SenderConfig struct {
	// Addr is the relay's "host:port". Required.
	Addr string
	// HeloName is sent in EHLO; default os.Hostname().
	HeloName string

	// TLS is the TLS mode; default TLSOpportunistic.
	TLS TLSMode
	// TLSInsecureSkipVerify turns certificate verification off.
	TLSInsecureSkipVerify bool
	// RootCAs verifies the relay's certificate; nil means the system pool.
	RootCAs *x509.CertPool
	// TLSServerName is the name the certificate must carry; default the
	// host part of Addr.
	TLSServerName string

	// AuthUser and AuthPassword enable SMTP AUTH. AUTH is only sent over
	// TLS, unless TLS is TLSNone.
	AuthUser     string
	AuthPassword string
	// AuthMechanism is "PLAIN" or "LOGIN"; default PLAIN if the relay
	// offers it, else LOGIN.
	AuthMechanism string

	// Proxy writes a PROXY header of that version before the greeting.
	Proxy ProxyVersion
	// ProxySource is the source address in the header; default the local
	// address of the connection to the relay. The port is always the
	// connection's local port.
	ProxySource netip.Addr

	// DialTimeout bounds connecting (and the TLS handshake); default 30s.
	DialTimeout time.Duration
	// CommandTimeout bounds each command's reply; default 1 minute.
	CommandTimeout time.Duration
	// DataTimeout bounds the reply to the end of DATA; default 5 minutes.
	DataTimeout time.Duration

	// MaxIdle connections are kept open for reuse; default 4.
	MaxIdle int
	// IdleTimeout is how long an idle connection is reused; default 30s.
	IdleTimeout time.Duration

	// Logger; default slog.Default().
	Logger *slog.Logger
}

// Sender submits messages to one SMTP relay. It reuses connections across
// messages (without RSET after a transaction that ended, a fresh
// connection after an error), pipelines MAIL, RCPT and DATA when the relay
// offers PIPELINING (RFC 2920), and is safe for concurrent use; each
// concurrent Send uses its own connection.
type Sender struct {
	cfg  SenderConfig
	tls  *tls.Config
	log  *slog.Logger
	pool pool
}

// NewSender checks cfg and returns a Sender. It does not connect.
func NewSender(cfg SenderConfig) (*Sender, error) {
	host, port, err := net.SplitHostPort(cfg.Addr)
	if err != nil {
		return nil, fmt.Errorf("relay address %q: %w", cfg.Addr, err)
	}
	if n, err := strconv.ParseUint(port, 10, 16); err != nil || n == 0 {
		return nil, fmt.Errorf("relay address %q: port %q is not a number from 1 to 65535", cfg.Addr, port)
	}
	if cfg.TLS < TLSOpportunistic || cfg.TLS > TLSImplicit {
		return nil, fmt.Errorf("relay %s: invalid TLS mode %d", cfg.Addr, int(cfg.TLS))
	}
	if cfg.Proxy < ProxyHeaderOff || cfg.Proxy > ProxyHeaderV2 {
		return nil, fmt.Errorf("relay %s: invalid PROXY version %d", cfg.Addr, int(cfg.Proxy))
	}
	switch m := strings.ToUpper(cfg.AuthMechanism); m {
	case "", sasl.Plain, sasl.Login:
		cfg.AuthMechanism = m
	default:
		return nil, fmt.Errorf("relay %s: AUTH mechanism %q: want PLAIN or LOGIN", cfg.Addr, cfg.AuthMechanism)
	}
	if cfg.AuthPassword != "" && cfg.AuthUser == "" {
		return nil, fmt.Errorf("relay %s: AUTH password without user", cfg.Addr)
	}
	cfg.HeloName = localName(cfg.HeloName)
	if strings.ContainsAny(cfg.HeloName, " \r\n") {
		return nil, fmt.Errorf("relay %s: HELO name %q", cfg.Addr, cfg.HeloName)
	}
	if cfg.TLSServerName == "" {
		cfg.TLSServerName = host
	}
	clientDefaults(&cfg.DialTimeout, &cfg.CommandTimeout, &cfg.DataTimeout, &cfg.MaxIdle, &cfg.IdleTimeout, &cfg.Logger)
	return &Sender{
		cfg: cfg,
		tls: &tls.Config{
			ServerName:         cfg.TLSServerName,
			RootCAs:            cfg.RootCAs,
			InsecureSkipVerify: cfg.TLSInsecureSkipVerify,
			MinVersion:         tls.VersionTLS12,
		},
		log:  cfg.Logger,
		pool: pool{maxIdle: cfg.MaxIdle, idleTimeout: cfg.IdleTimeout},
	}, nil
}

// Send submits msg (a complete message with CRLF line endings) from the
// envelope sender from ("" for <>) to the recipients in to, and returns
// nil once the relay accepted it with 250 after DATA. With DSN offered,
// every RCPT carries NOTIFY=NEVER.
//
// Delivery is all or nothing: the first recipient the relay refuses ends
// the transaction (RSET) and Send returns that reply. Errors are
// *SendError; use [IsTemporary] to decide between retrying and dropping.
// Cancelling ctx aborts the session with a temporary error.
func (s *Sender) Send(ctx context.Context, from string, to []string, msg []byte) error {
	if err := s.checkEnvelope(from, to); err != nil {
		return err
	}
	c := s.pool.get(ctx)
	reused := c != nil
	if c == nil {
		var err error
		if c, err = s.dial(ctx); err != nil {
			return err
		}
	}
	stop := c.watch(ctx)
	err := s.transact(c, from, to, msg)
	watched := stop()
	if reused && watched && unanswered(err) {
		// The relay closed the idle session just as it was taken: nothing
		// of this transaction was answered, so it is sent on a new one.
		c.close()
		if c, err = s.dial(ctx); err != nil {
			return err
		}
		stop = c.watch(ctx)
		err = s.transact(c, from, to, msg)
		watched = stop()
	}
	if !watched {
		// ctx ended and the connection is being closed. A message the relay
		// already accepted stays sent: reporting a failure would send it twice.
		c.close()
		if err == nil {
			return nil
		}
		return &SendError{Relay: s.cfg.Addr, Op: "send", Temporary: true, Err: ctx.Err()}
	}
	switch {
	case err == nil:
		s.pool.put(c)
	case connUsable(err) || errors.Is(err, ErrNoSMTPUTF8):
		s.pool.put(c) // RSET when it is taken again, if the transaction did not end
	default:
		c.close()
	}
	return err
}

// unanswered reports whether err is a broken session before any reply to
// the transaction (MAIL FROM's is the first), when it cannot have been
// delivered.
func unanswered(err error) bool {
	var se *SendError
	return errors.As(err, &se) && se.Op == "MAIL FROM" && !connUsable(err) && !errors.Is(err, ErrNoSMTPUTF8)
}

// ErrNoSMTPUTF8 is wrapped by the permanent [SendError] of a message with
// a non-ASCII address (a reply to an SMTPUTF8 sender) when the relay does
// not offer SMTPUTF8; it is refused before MAIL FROM is sent.
var ErrNoSMTPUTF8 = errors.New("relay does not offer SMTPUTF8, needed for a non-ASCII address")

// Close closes the idle connections (with QUIT). Sends in progress finish;
// their connections are closed afterwards.
func (s *Sender) Close() error {
	s.pool.close()
	return nil
}

func (s *Sender) checkEnvelope(from string, to []string) error {
	bad := func(msg string) error {
		return &SendError{Relay: s.cfg.Addr, Op: "envelope", Message: msg, Err: errors.New(msg)}
	}
	if len(to) == 0 {
		return bad("no recipients")
	}
	if strings.ContainsAny(from, "\r\n<>") {
		return bad(fmt.Sprintf("bad sender %q", from))
	}
	for _, r := range to {
		if r == "" || strings.ContainsAny(r, "\r\n<>") {
			return bad(fmt.Sprintf("bad recipient %q", r))
		}
	}
	return nil
}

// transact runs the transaction on c (pipelined when the relay offers
// PIPELINING) and maps the first refusal to a *SendError. The error is a
// *txnError when the session is unusable.
func (s *Sender) transact(c *client, from string, to []string, msg []byte) error {
	utf8 := !isASCII(from)
	for _, r := range to {
		utf8 = utf8 || !isASCII(r)
	}
	if utf8 {
		if ok, _ := c.cl.Extension("SMTPUTF8"); !ok {
			return &SendError{Relay: s.cfg.Addr, Op: "MAIL FROM", Message: ErrNoSMTPUTF8.Error(), Err: ErrNoSMTPUTF8}
		}
	}
	params := ""
	if ok, _ := c.cl.Extension("DSN"); ok {
		// A reply must not cause a DSN (RFC 3834 section 3.2).
		params = " NOTIFY=NEVER"
	}
	t := &txn{mail: mailCommand(c.cl, from, len(msg), utf8), allOrNothing: true, body: msg}
	for _, r := range to {
		t.rcpts = append(t.rcpts, rcptCommand(r, params))
	}
	res, err := c.s.run(t)
	if err != nil {
		var te *txnError
		errors.As(err, &te)
		return replyError(s.cfg.Addr, te.op, te.err, strings.HasPrefix(te.op, "RCPT") || te.op == "end of DATA")
	}
	if res.mail != nil {
		return replyError(s.cfg.Addr, "MAIL FROM", res.mail, false)
	}
	for i, e := range res.rcpt {
		if e != nil {
			return replyError(s.cfg.Addr, "RCPT TO <"+to[i]+">", e, true)
		}
	}
	if res.data != nil {
		return replyError(s.cfg.Addr, "DATA", res.data, false)
	}
	if len(res.final) == 1 && res.final[0] != nil {
		return replyError(s.cfg.Addr, "end of DATA", res.final[0], true)
	}
	return nil
}

// dial opens a session: TCP, PROXY header, TLS as configured, EHLO, AUTH.
func (s *Sender) dial(ctx context.Context) (*client, error) {
	fail := func(op string, err error) error {
		return replyError(s.cfg.Addr, op, err, false)
	}
	d := net.Dialer{Timeout: s.cfg.DialTimeout}
	raw, err := d.DialContext(ctx, "tcp", s.cfg.Addr)
	if err != nil {
		return nil, fail("connect", err)
	}
	stop := context.AfterFunc(ctx, func() { raw.Close() })
	c, err := s.setup(ctx, raw)
	if !stop() {
		raw.Close()
		return nil, fail("connect", ctx.Err())
	}
	if err != nil {
		raw.Close()
		return nil, err
	}
	return c, nil
}

func (s *Sender) setup(ctx context.Context, raw net.Conn) (*client, error) {
	fail := func(op string, err error) (*client, error) {
		return nil, replyError(s.cfg.Addr, op, err, false)
	}
	if s.cfg.Proxy != ProxyHeaderOff {
		if err := s.writeProxyHeader(raw); err != nil {
			return fail("PROXY", err)
		}
	}
	var conn net.Conn = raw
	secure := false
	switch s.cfg.TLS {
	case TLSImplicit:
		tc := tls.Client(raw, s.tls)
		hctx, cancel := context.WithTimeout(ctx, s.cfg.DialTimeout)
		err := tc.HandshakeContext(hctx)
		cancel()
		if err != nil {
			return fail("TLS", err)
		}
		conn, secure = tc, true
	case TLSOpportunistic, TLSStartTLS:
		var err error
		conn, secure, err = s.startTLS(ctx, raw)
		if err != nil {
			return nil, err
		}
	}
	cl := smtp.NewClient(conn)
	cl.CommandTimeout = s.cfg.CommandTimeout
	cl.SubmissionTimeout = s.cfg.DataTimeout
	if err := cl.Hello(s.cfg.HeloName); err != nil {
		cl.Close()
		return fail("EHLO", err)
	}
	if s.cfg.AuthUser != "" {
		if err := s.auth(cl, secure); err != nil {
			cl.Close()
			return nil, err
		}
	}
	return &client{cl: cl, raw: raw, s: newSession(conn, cl, false, s.cfg.CommandTimeout, s.cfg.DataTimeout)}, nil
}

func (s *Sender) auth(cl *smtp.Client, secure bool) error {
	fail := func(err error) error { return replyError(s.cfg.Addr, "AUTH", err, false) }
	if !secure && s.cfg.TLS != TLSNone {
		return fail(errors.New("refusing to send the password without TLS (the relay did not offer STARTTLS)"))
	}
	mech := s.cfg.AuthMechanism
	if mech == "" {
		switch {
		case cl.SupportsAuth(sasl.Plain):
			mech = sasl.Plain
		case cl.SupportsAuth(sasl.Login):
			mech = sasl.Login
		default:
			return fail(errors.New("relay offers neither AUTH PLAIN nor AUTH LOGIN"))
		}
	}
	var sc sasl.Client
	if mech == sasl.Login {
		sc = sasl.NewLoginClient(s.cfg.AuthUser, s.cfg.AuthPassword)
	} else {
		sc = sasl.NewPlainClient("", s.cfg.AuthUser, s.cfg.AuthPassword)
	}
	if err := cl.Auth(sc); err != nil {
		return fail(err)
	}
	return nil
}

// writeProxyHeader writes the PROXY header for raw: source the configured
// address (or the local address), destination the relay's address.
func (s *Sender) writeProxyHeader(raw net.Conn) error {
	src, ok := raw.LocalAddr().(*net.TCPAddr)
	dst, ok2 := raw.RemoteAddr().(*net.TCPAddr)
	if !ok || !ok2 {
		return fmt.Errorf("PROXY header needs TCP addresses, have %s -> %s", raw.LocalAddr(), raw.RemoteAddr())
	}
	if s.cfg.ProxySource.IsValid() {
		src = &net.TCPAddr{IP: s.cfg.ProxySource.AsSlice(), Port: src.Port}
	}
	h := proxyproto.HeaderProxyFromAddrs(byte(s.cfg.Proxy), src, dst)
	if h.Command != proxyproto.PROXY {
		return fmt.Errorf("cannot express %s -> %s in a PROXY header", src, dst)
	}
	raw.SetWriteDeadline(time.Now().Add(s.cfg.CommandTimeout))
	defer raw.SetWriteDeadline(time.Time{})
	if _, err := h.WriteTo(raw); err != nil {
		return err
	}
	return nil
}
