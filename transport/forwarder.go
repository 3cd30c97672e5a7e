package transport

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"strings"
	"time"

	"github.com/emersion/go-smtp"
)

// ForwarderConfig configures a [Forwarder]. Zero values take the defaults
// named.
type ForwarderConfig struct {
	// Target is "lmtp:HOST:PORT" or "lmtp:unix:PATH". Required.
	Target string
	// LHLOName is sent in LHLO; default os.Hostname().
	LHLOName string
	// DialTimeout bounds connecting; default 30s.
	DialTimeout time.Duration
	// CommandTimeout bounds each command's reply; default 1 minute.
	CommandTimeout time.Duration
	// DataTimeout bounds the replies after the end of DATA (the downstream
	// delivers while we wait); default 5 minutes.
	DataTimeout time.Duration
	// MaxIdle connections are kept open for reuse; default 4.
	MaxIdle int
	// IdleTimeout is how long an idle connection is reused; default 30s.
	IdleTimeout time.Duration
	// Logger; default slog.Default().
	Logger *slog.Logger
}

// ParseLMTPTarget splits "lmtp:HOST:PORT" or "lmtp:unix:PATH" into a
// network and an address for net.Dial.
func ParseLMTPTarget(target string) (network, addr string, err error) {
	rest, ok := strings.CutPrefix(target, "lmtp:")
	if !ok {
		return "", "", fmt.Errorf("delivery target %q: want lmtp:HOST:PORT or lmtp:unix:PATH", target)
	}
	if path, ok := strings.CutPrefix(rest, "unix:"); ok {
		if path == "" {
			return "", "", fmt.Errorf("delivery target %q: empty socket path", target)
		}
		return "unix", path, nil
	}
	rest = strings.TrimPrefix(rest, "inet:") // Postfix spelling
	if _, _, err := net.SplitHostPort(rest); err != nil {
		return "", "", fmt.Errorf("delivery target %q: %w", target, err)
	}
	return "tcp", rest, nil
}

// Forwarder delivers messages to a downstream LMTP server (Dovecot's
// lmtp) and maps its per-recipient replies back. It reuses connections
// (RSET only after a transaction that did not end), pipelines MAIL, RCPT
// and DATA when offered, and is safe for concurrent use.
type Forwarder struct {
	cfg     ForwarderConfig
	network string
	addr    string
	log     *slog.Logger
	pool    pool
}

// NewForwarder checks cfg and returns a Forwarder. It does not connect.
func NewForwarder(cfg ForwarderConfig) (*Forwarder, error) {
	network, addr, err := ParseLMTPTarget(cfg.Target)
	if err != nil {
		return nil, err
	}
	cfg.LHLOName = localName(cfg.LHLOName)
	if strings.ContainsAny(cfg.LHLOName, " \r\n") {
		return nil, fmt.Errorf("delivery target %s: LHLO name %q", cfg.Target, cfg.LHLOName)
	}
	clientDefaults(&cfg.DialTimeout, &cfg.CommandTimeout, &cfg.DataTimeout, &cfg.MaxIdle, &cfg.IdleTimeout, &cfg.Logger)
	return &Forwarder{
		cfg: cfg, network: network, addr: addr, log: cfg.Logger,
		pool: pool{maxIdle: cfg.MaxIdle, idleTimeout: cfg.IdleTimeout},
	}, nil
}

// Close closes the idle connections.
func (f *Forwarder) Close() error {
	f.pool.close()
	return nil
}

// Deliver forwards msg from from to rcpts; it is Forward without ORCPT or
// an added header.
func (f *Forwarder) Deliver(ctx context.Context, from string, rcpts []string, msg []byte) []Status {
	to := make([]Recipient, len(rcpts))
	for i, r := range rcpts {
		to[i] = Recipient{Addr: r}
	}
	return f.Forward(ctx, from, to, "", msg)
}

// Forward sends msg from from ("" for <>) to the recipients in to over
// one LMTP transaction and returns one Status per entry of to, in order:
// the downstream's reply to that RCPT if it refused it, else its reply
// after DATA. received, if not "", is a complete header field (such as a
// Received: trace field) written before msg; a missing final CRLF is
// added. ORCPT is passed on when the downstream offers DSN.
//
// Any failure that leaves a recipient without its own reply — no
// connection, a broken session, a timeout, ctx cancelled — gives that
// recipient 451 4.4.x, so the message is kept upstream and retried.
// Duplicate addresses are sent once and share the reply.
func (f *Forwarder) Forward(ctx context.Context, from string, to []Recipient, received string, msg []byte) []Status {
	out := make([]Status, len(to))
	// One RCPT per distinct address: go-smtp's client keys LMTP replies by
	// address.
	idx := make(map[string]int, len(to))
	var uniq []Recipient
	for _, r := range to {
		if _, ok := idx[r.Addr]; !ok {
			idx[r.Addr] = len(uniq)
			uniq = append(uniq, r)
		}
	}
	st := f.forward(ctx, from, uniq, received, msg)
	for i, r := range to {
		out[i] = st[idx[r.Addr]]
	}
	return out
}

// forward runs the transaction for distinct recipients.
func (f *Forwarder) forward(ctx context.Context, from string, to []Recipient, received string, msg []byte) []Status {
	st := make([]Status, len(to))
	set := make([]bool, len(to))
	// fill gives every recipient without a reply yet the status s.
	fill := func(s Status) []Status {
		for i := range st {
			if !set[i] {
				st[i], set[i] = s, true
			}
		}
		return st
	}
	lost := func(what string, err error) Status {
		if ctx.Err() != nil {
			err = ctx.Err()
		}
		f.log.Warn("lmtp forward: "+what, "target", f.cfg.Target, "err", err)
		return Status{Code: 451, Enhanced: [3]int{4, 4, 2}, Message: fmt.Sprintf("Downstream %s: %s", what, oneLine(err))}
	}
	if len(to) == 0 {
		return st
	}
	if strings.ContainsAny(from, "\r\n<>") {
		return fill(Status{Code: 501, Enhanced: [3]int{5, 1, 7}, Message: fmt.Sprintf("Bad sender address %q", from)})
	}
	for i, r := range to {
		if r.Addr == "" || strings.ContainsAny(r.Addr, "\r\n<>") {
			st[i], set[i] = Status{Code: 501, Enhanced: [3]int{5, 1, 3}, Message: fmt.Sprintf("Bad recipient address %q", r.Addr)}, true
		}
	}

	c := f.pool.get(ctx)
	if c != nil {
		// A session the downstream closed just as it was taken fails
		// before any reply; the transaction then goes on a new one.
		stop := c.watch(ctx)
		ok, early := f.transact(c, from, to, received, msg, st, set, lost)
		if stop() && ok {
			f.pool.put(c)
			return f.finish(st, set, lost)
		}
		c.close()
		if early == nil || ctx.Err() != nil {
			return f.finish(st, set, lost)
		}
		c = nil
	}
	if c == nil {
		var err error
		if c, err = f.dial(ctx); err != nil {
			s := lost("unavailable", err)
			s.Enhanced = [3]int{4, 4, 1}
			return fill(s)
		}
	}
	stop := c.watch(ctx)
	usable, early := f.transact(c, from, to, received, msg, st, set, lost)
	if early != nil {
		fill(lost("MAIL FROM failed", early))
	}
	if !stop() || !usable {
		c.close()
	} else {
		f.pool.put(c)
	}
	return f.finish(st, set, lost)
}

// finish gives recipients left without a reply 451.
func (f *Forwarder) finish(st []Status, set []bool, lost func(string, error) Status) []Status {
	for i := range set {
		if !set[i] {
			s := lost("session ended", errors.New("no reply"))
			for j := range st {
				if !set[j] {
					st[j], set[j] = s, true
				}
			}
			break
		}
	}
	return st
}

// transact runs MAIL, RCPT, DATA on c (pipelined when the downstream
// offers PIPELINING, as Dovecot does), setting st for every recipient it
// got a reply for. It reports whether the session is still usable; early
// is the error that broke it before any reply (nothing can have been
// delivered then, and no status is set).
func (f *Forwarder) transact(c *client, from string, to []Recipient, received string, msg []byte,
	st []Status, set []bool, lost func(string, error) Status) (usable bool, early error) {
	fillAll := func(s Status) {
		for i := range st {
			if !set[i] {
				st[i], set[i] = s, true
			}
		}
	}
	utf8 := !isASCII(from)
	for _, r := range to {
		utf8 = utf8 || !isASCII(r.Addr)
	}
	if utf8 {
		if ok, _ := c.cl.Extension("SMTPUTF8"); !ok {
			fillAll(Status{Code: 553, Enhanced: [3]int{5, 6, 7}, Message: "Downstream does not support SMTPUTF8"})
			return true, nil
		}
	}
	if received != "" && !strings.HasSuffix(received, "\r\n") {
		received = strings.TrimRight(received, "\r\n") + "\r\n"
	}
	dsn, _ := c.cl.Extension("DSN")
	t := &txn{mail: mailCommand(c.cl, from, len(received)+len(msg), utf8), header: received, body: msg}
	var sent []int // index in to of each RCPT sent
	for i, r := range to {
		if set[i] {
			continue
		}
		params := ""
		if dsn && r.ORCPT != "" && !hasControl(r.ORCPT) { // ORCPT is optional; a bad one is dropped
			params = orcptParam(r.ORCPT, utf8)
		}
		t.rcpts = append(t.rcpts, rcptCommand(r.Addr, params))
		sent = append(sent, i)
	}
	if len(sent) == 0 {
		return true, nil
	}
	res, err := c.s.run(t)
	var te *txnError
	if errors.As(err, &te) && te.op == "MAIL FROM" && res.mail == nil {
		return false, te.err
	}
	if res.mail != nil {
		fillAll(fromSMTPError(res.mail))
		return err == nil, nil
	}
	var accepted []int
	for k, e := range res.rcpt {
		switch {
		case e == nil:
			accepted = append(accepted, sent[k])
		case e != errNotSent:
			st[sent[k]], set[sent[k]] = fromSMTPError(e), true
		}
	}
	if err == nil && res.data != nil {
		fillAll(fromSMTPError(res.data))
		return true, nil
	}
	for k, e := range res.final {
		i := accepted[k]
		if e != nil {
			st[i], set[i] = fromSMTPError(e), true
			continue
		}
		ec, text := parseReplyText(res.finalText[k])
		if ec[0] != 2 {
			ec = [3]int{2, 0, 0}
		}
		st[i], set[i] = Status{Code: 250, Enhanced: ec, Message: text}, true
	}
	if err != nil {
		what := "connection lost after DATA"
		switch {
		case strings.HasPrefix(te.op, "RCPT"):
			what = "RCPT TO failed"
		case te.op == "DATA" && res.data == nil && res.final == nil:
			what = "connection lost during DATA"
		}
		fillAll(lost(what, te.err))
		return false, nil
	}
	return true, nil
}

// fromSMTPError maps a downstream reply to a Status.
func fromSMTPError(err error) Status {
	var se *smtp.SMTPError
	if !errors.As(err, &se) {
		return Status{Code: 451, Enhanced: [3]int{4, 4, 2}, Message: oneLine(err)}
	}
	st := Status{Code: se.Code, Enhanced: [3]int(se.EnhancedCode), Message: "Downstream: " + strings.ReplaceAll(se.Message, "\n", " ")}
	if !st.valid() {
		st = Status{Code: 451, Enhanced: [3]int{4, 4, 2}, Message: fmt.Sprintf("Downstream sent reply code %d", se.Code)}
	}
	if st.Enhanced[0] != st.Code/100 {
		st.Enhanced = [3]int{st.Code / 100, 0, 0}
	}
	return st
}

func hasControl(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] < 0x20 || s[i] == 0x7f {
			return true
		}
	}
	return false
}

func oneLine(err error) string {
	if err == nil {
		return "unknown error"
	}
	return strings.ReplaceAll(err.Error(), "\n", " ")
}

// dial connects and greets with LHLO.
func (f *Forwarder) dial(ctx context.Context) (*client, error) {
	d := net.Dialer{Timeout: f.cfg.DialTimeout}
	raw, err := d.DialContext(ctx, f.network, f.addr)
	if err != nil {
		return nil, err
	}
	stop := context.AfterFunc(ctx, func() { raw.Close() })
	cl := smtp.NewClientLMTP(raw)
	cl.CommandTimeout = f.cfg.CommandTimeout
	cl.SubmissionTimeout = f.cfg.DataTimeout
	err = cl.Hello(f.cfg.LHLOName)
	if !stop() {
		raw.Close()
		return nil, ctx.Err()
	}
	if err != nil {
		raw.Close()
		return nil, fmt.Errorf("LHLO: %w", err)
	}
	return &client{cl: cl, raw: raw, s: newSession(raw, cl, true, f.cfg.CommandTimeout, f.cfg.DataTimeout)}, nil
}
