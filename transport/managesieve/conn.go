package managesieve

import (
	"bufio"
	"context"
	"crypto/tls"
	"errors"
	"io"
	"net"
	"net/netip"
	"os"
	"strconv"
	"strings"
	"sync"
	"time"
)

// conn is one ManageSieve session.
type conn struct {
	srv           *Server
	raw           net.Conn // the socket, for deadlines and Close
	nc            net.Conn // raw, or TLS over it
	bw            *bufio.Writer
	r             *reader
	remote, local netip.AddrPort
	proxied       bool

	tls       bool
	start     time.Time
	sess      Session
	authFails int
	bad       int

	mu          sync.Mutex
	interrupted bool // Shutdown asked the session to end
}

func newConn(s *Server, nc net.Conn, remote, local netip.AddrPort, proxied bool) *conn {
	c := &conn{srv: s, raw: nc, nc: nc, remote: remote, local: local, proxied: proxied, start: time.Now()}
	c.setStreams(nc)
	return c
}

func (c *conn) setStreams(rw io.ReadWriter) {
	c.bw = bufio.NewWriter(rw)
	c.r = &reader{
		br:         bufio.NewReaderSize(rw, 4096),
		maxLine:    c.srv.cfg.MaxLine,
		maxLiteral: c.srv.cfg.MaxScriptSize,
		maxDiscard: 4 * c.srv.cfg.MaxScriptSize,
	}
}

// interrupt makes a session waiting for a command end at once, and one
// running a command end after it.
func (c *conn) interrupt() {
	c.mu.Lock()
	c.interrupted = true
	c.mu.Unlock()
	c.raw.SetReadDeadline(time.Now())
}

func (c *conn) isInterrupted() bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.interrupted
}

func (c *conn) secured() bool { return c.tls || c.srv.trusted(c.remote.Addr()) }

func (c *conn) info() ConnInfo {
	return ConnInfo{Remote: c.remote, Local: c.local, TLS: c.tls, Secured: c.secured()}
}

// logAttrs identifies the session in log lines.
func (c *conn) logAttrs(more ...any) []any {
	a := []any{"remote", c.remote.String()}
	if c.sess != nil {
		a = append(a, "user", c.sess.User())
	}
	return append(a, more...)
}

// reply writes a response line and flushes.
func (c *conn) reply(status, code, text string) error {
	c.bw.WriteString(status)
	if code != "" {
		c.bw.WriteString(" (" + code + ")")
	}
	if text != "" {
		c.bw.WriteString(" " + quote(text))
	}
	c.bw.WriteString("\r\n")
	return c.flush()
}

func (c *conn) flush() error {
	c.raw.SetWriteDeadline(time.Now().Add(c.srv.cfg.WriteTimeout))
	return c.bw.Flush()
}

// capabilities writes the capability lines (without the closing OK).
func (c *conn) capabilities() {
	cfg := &c.srv.cfg
	line := func(k, v string) { c.bw.WriteString(quote(k) + " " + quote(v) + "\r\n") }
	line("IMPLEMENTATION", cfg.Implementation)
	caps := c.srv.caps.Load()
	line("SIEVE", strings.Join(caps.Extensions, " "))
	if c.sess != nil && caps.MaxRedirects > 0 {
		line("MAXREDIRECTS", strconv.Itoa(caps.MaxRedirects))
	}
	if len(caps.Notify) > 0 {
		line("NOTIFY", strings.Join(caps.Notify, " "))
	}
	if c.sess == nil {
		mechs := ""
		if c.secured() {
			mechs = "PLAIN LOGIN"
		}
		line("SASL", mechs)
		if cfg.TLS != nil && !c.tls {
			c.bw.WriteString("\"STARTTLS\"\r\n")
		}
	}
	line("VERSION", "1.0")
	if c.sess != nil {
		c.bw.WriteString("\"UNAUTHENTICATE\"\r\n")
	}
}

func (c *conn) serve() {
	defer func() {
		if c.sess != nil {
			c.sess.Close()
		}
		c.nc.Close()
	}()
	c.srv.log.Debug("managesieve: connection", c.logAttrs("proxied", c.proxied)...)
	c.capabilities()
	if err := c.reply("OK", "", c.srv.cfg.Implementation+" ready."); err != nil {
		return
	}
	for {
		if c.isInterrupted() {
			c.reply("BYE", "", "Server shutting down.")
			return
		}
		deadline := time.Now().Add(c.srv.cfg.IdleTimeout)
		if login := c.start.Add(c.srv.cfg.LoginTimeout); c.sess == nil && login.Before(deadline) {
			deadline = login
		}
		c.raw.SetReadDeadline(deadline)
		// Before login only small literals (a SASL response) are read:
		// an unauthenticated client cannot make the server hold scripts.
		c.r.maxLiteral, c.r.maxDiscard = c.srv.cfg.MaxScriptSize, 4*c.srv.cfg.MaxScriptSize
		if c.sess == nil {
			c.r.maxLiteral, c.r.maxDiscard = c.srv.cfg.MaxLine, c.srv.cfg.MaxLine
		}
		name, args, err := c.r.command()
		var pe *protocolError
		var lt *literalTooLarge
		switch {
		case errors.As(err, &pe):
			if !c.badCommand(pe.msg) {
				return
			}
			continue
		case errors.As(err, &lt):
			if c.reply("NO", CodeQuotaMaxSize, lt.Error()) != nil {
				return
			}
			continue
		case errors.Is(err, errTooLong):
			c.reply("BYE", "", errTooLong.Error())
			return
		case errors.Is(err, os.ErrDeadlineExceeded):
			if c.isInterrupted() {
				c.reply("BYE", "", "Server shutting down.")
			} else {
				c.reply("BYE", "", "Disconnected for inactivity.")
			}
			return
		case err != nil:
			return // the client went away
		}
		if name == "" {
			continue // an empty line, as Dovecot ignores it
		}
		if name == "PROXY" && !c.proxied {
			c.srv.log.Warn("managesieve: PROXY header from a peer that may not send one, connection closed", c.logAttrs()...)
			return
		}
		if !c.dispatch(name, args) {
			return
		}
	}
}

// badCommand answers a command that did not parse; it returns false when
// the session must end.
func (c *conn) badCommand(msg string) bool {
	c.bad++
	limit := 3
	if c.sess != nil {
		limit = 20
	}
	if c.bad > limit {
		c.reply("BYE", "", "Too many invalid MANAGESIEVE commands.")
		return false
	}
	return c.reply("NO", "", msg) == nil
}

// argsError answers a command whose arguments are wrong.
func (c *conn) argsError(cmd, why string) bool {
	return c.badCommand("Error in MANAGESIEVE command " + cmd + ": " + why + ".")
}

// strArgs checks that there are min to max arguments, all strings, and
// returns them. Otherwise it answers the command and returns nil, with
// ok false when the session must end.
func (c *conn) strArgs(cmd string, args []arg, min, max int) ([]string, bool) {
	if len(args) < min {
		return nil, c.argsError(cmd, "Missing arguments")
	}
	if len(args) > max {
		return nil, c.argsError(cmd, "Too many arguments")
	}
	out := make([]string, len(args))
	for i, a := range args {
		if !a.isString() {
			return nil, c.argsError(cmd, "Invalid arguments")
		}
		out[i] = a.s
	}
	return out, true
}

// dispatch runs one command; it returns false when the session ends.
func (c *conn) dispatch(name string, args []arg) bool {
	switch name {
	case "CAPABILITY":
		if len(args) > 0 {
			return c.argsError(name, "Too many arguments")
		}
		c.capabilities()
		return c.reply("OK", "", "Capability completed.") == nil
	case "NOOP":
		s, ok := c.strArgs(name, args, 0, 1)
		if !ok || s == nil {
			return ok // answered
		}
		if len(s) == 1 {
			c.bw.WriteString("OK (TAG " + quote(s[0]) + ") \"Done\"\r\n")
			return c.flush() == nil
		}
		return c.reply("OK", "", "NOOP Completed") == nil
	case "LOGOUT":
		if len(args) > 0 {
			return c.argsError(name, "Too many arguments")
		}
		c.reply("OK", "", "Logout completed.")
		return false
	}
	if c.sess == nil {
		switch name {
		case "AUTHENTICATE":
			return c.authenticate(args)
		case "STARTTLS":
			return c.startTLS(args)
		}
		return c.badCommand("Error in MANAGESIEVE command received by server.")
	}
	switch name {
	case "AUTHENTICATE", "STARTTLS":
		return c.badCommand("Error in MANAGESIEVE command " + name + ": Unknown command.")
	case "UNAUTHENTICATE":
		if len(args) > 0 {
			return c.argsError(name, "Too many arguments")
		}
		c.srv.log.Info("managesieve: unauthenticated", c.logAttrs()...)
		c.sess.Close()
		c.sess, c.bad = nil, 0
		return c.reply("OK", "", "Unauthenticate completed.") == nil
	}
	return c.scriptCommand(name, args)
}

// startTLS upgrades the connection.
func (c *conn) startTLS(args []arg) bool {
	if len(args) > 0 {
		return c.argsError("STARTTLS", "Too many arguments")
	}
	if c.srv.cfg.TLS == nil {
		return c.reply("NO", "", "TLS support isn't enabled.") == nil
	}
	if c.tls {
		return c.reply("NO", "", "TLS is already active.") == nil
	}
	if c.r.br.Buffered() > 0 {
		// Commands pipelined after STARTTLS would be read in clear text
		// and run over TLS: refuse, as a plaintext-injection defence.
		c.reply("BYE", "", "STARTTLS: data after the command.")
		return false
	}
	if c.reply("OK", "", "Begin TLS negotiation now.") != nil {
		return false
	}
	tc := tls.Server(c.nc, c.srv.cfg.TLS)
	tc.SetDeadline(time.Now().Add(c.srv.cfg.WriteTimeout))
	if err := tc.HandshakeContext(c.srv.ctx); err != nil {
		c.srv.log.Info("managesieve: TLS handshake failed", c.logAttrs("error", err)...)
		return false
	}
	tc.SetDeadline(time.Time{})
	c.nc = tc
	c.tls = true
	c.setStreams(tc)
	// RFC 5804 2.2: the server sends the capabilities again after TLS.
	c.capabilities()
	return c.reply("OK", "", "TLS negotiation successful.") == nil
}

// ctx is the context of Backend calls: the server's.
func (c *conn) ctx() context.Context { return c.srv.ctx }
