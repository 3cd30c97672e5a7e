package auth

import (
	"bufio"
	"context"
	"encoding/base64"
	"errors"
	"fmt"
	"net"
	"os"
	"strconv"
	"strings"
	"sync"
	"time"
)

// Dovecot checks passwords with an existing Dovecot's auth service, over
// its auth-client socket (usually /run/dovecot/auth-client), speaking the
// auth-client protocol 1.2 with the PLAIN mechanism. One connection is
// kept open and shared by concurrent logins (each request has its own
// ID); it is reopened after an error.
//
// Dovecot applies its own settings: auth_failure_delay, and
// disable_plaintext_auth unless [Request.Secured] is set.
type Dovecot struct {
	// Socket is the auth-client socket's path.
	Socket string
	// Timeout bounds connecting and the handshake (default 5s), and six
	// times it the wait for the answer to a login.
	Timeout time.Duration

	mu   sync.Mutex
	conn *dcConn
	id   uint32
}

// dcConn is one open auth-client connection.
type dcConn struct {
	c  net.Conn
	wm sync.Mutex

	mu      sync.Mutex
	pending map[uint32]chan string
	err     error // set once the connection failed
}

// Check implements [Checker].
func (d *Dovecot) Check(ctx context.Context, r Request) (string, error) {
	c, id, err := d.connect(ctx)
	if err != nil {
		return "", fmt.Errorf("dovecot auth %s: %w", d.Socket, err)
	}
	ch := make(chan string, 1)
	c.mu.Lock()
	if c.err != nil {
		c.mu.Unlock()
		return "", fmt.Errorf("dovecot auth %s: %w", d.Socket, c.err)
	}
	c.pending[id] = ch
	c.mu.Unlock()
	defer func() {
		c.mu.Lock()
		delete(c.pending, id)
		c.mu.Unlock()
	}()
	resp := base64.StdEncoding.EncodeToString([]byte("\x00" + r.User + "\x00" + r.Password))
	service := r.Service
	if service == "" {
		service = "sieve"
	}
	line := fmt.Sprintf("AUTH\t%d\tPLAIN\tservice=%s", id, tabEscape(service))
	if r.Secured {
		line += "\tsecured"
	}
	if r.Local.IsValid() {
		line += "\tlip=" + r.Local.String()
	}
	if r.Remote.IsValid() {
		line += "\trip=" + r.Remote.String()
	}
	line += "\tresp=" + resp + "\n"
	c.wm.Lock()
	c.c.SetWriteDeadline(time.Now().Add(d.timeout()))
	_, err = c.c.Write([]byte(line))
	c.wm.Unlock()
	if err != nil {
		d.fail(c, err)
		return "", fmt.Errorf("dovecot auth %s: %w", d.Socket, err)
	}
	// Dovecot answers a failure after auth_failure_delay (2s by
	// default); an auth service that does not answer at all must not
	// hold the session forever.
	wait := time.NewTimer(d.replyTimeout())
	defer wait.Stop()
	select {
	case <-ctx.Done():
		return "", ctx.Err()
	case <-wait.C:
		return "", fmt.Errorf("dovecot auth %s: no answer within %s", d.Socket, d.replyTimeout())
	case reply, ok := <-ch:
		if !ok {
			c.mu.Lock()
			err := c.err
			c.mu.Unlock()
			return "", fmt.Errorf("dovecot auth %s: %w", d.Socket, err)
		}
		return parseAuthReply(reply, r.User)
	}
}

// parseAuthReply reads OK, FAIL or CONT (a line without its ID).
func parseAuthReply(reply, user string) (string, error) {
	f := strings.Split(reply, "\t")
	params := map[string]string{}
	for _, p := range f[1:] {
		k, v, _ := strings.Cut(p, "=")
		params[k] = tabUnescape(v)
	}
	switch f[0] {
	case "OK":
		if u := params["user"]; u != "" {
			return u, nil
		}
		return user, nil
	case "FAIL":
		if _, temp := params["temp"]; temp {
			return "", fmt.Errorf("dovecot auth: temporary failure: %s", params["reason"])
		}
		return "", fmt.Errorf("user %q: %w", user, ErrFailed)
	}
	return "", fmt.Errorf("user %q: dovecot auth answered %s: %w", user, f[0], ErrFailed)
}

// replyTimeout bounds the wait for an answer to one login.
func (d *Dovecot) replyTimeout() time.Duration { return 6 * d.timeout() }

func (d *Dovecot) timeout() time.Duration {
	if d.Timeout > 0 {
		return d.Timeout
	}
	return 5 * time.Second
}

// connect returns the open connection (opening it if needed) and a new
// request ID.
func (d *Dovecot) connect(ctx context.Context) (*dcConn, uint32, error) {
	d.mu.Lock()
	defer d.mu.Unlock()
	d.id++
	if d.id == 0 {
		d.id = 1
	}
	if d.conn != nil {
		d.conn.mu.Lock()
		ok := d.conn.err == nil
		d.conn.mu.Unlock()
		if ok {
			return d.conn, d.id, nil
		}
	}
	dctx, cancel := context.WithTimeout(ctx, d.timeout())
	defer cancel()
	var dl net.Dialer
	nc, err := dl.DialContext(dctx, "unix", d.Socket)
	if err != nil {
		return nil, 0, err
	}
	nc.SetDeadline(time.Now().Add(d.timeout()))
	if _, err := fmt.Fprintf(nc, "VERSION\t1\t2\nCPID\t%d\n", os.Getpid()); err != nil {
		nc.Close()
		return nil, 0, err
	}
	br := bufio.NewReader(nc)
	plain := false
	for {
		line, err := br.ReadString('\n')
		if err != nil {
			nc.Close()
			return nil, 0, fmt.Errorf("handshake: %w", err)
		}
		f := strings.Split(strings.TrimRight(line, "\n"), "\t")
		if f[0] == "VERSION" && (len(f) < 2 || f[1] != "1") {
			nc.Close()
			return nil, 0, fmt.Errorf("handshake: auth protocol version %q, want 1", strings.Join(f[1:], "."))
		}
		if f[0] == "MECH" && len(f) > 1 && strings.EqualFold(f[1], "PLAIN") {
			plain = true
		}
		if f[0] == "DONE" {
			break
		}
	}
	if !plain {
		nc.Close()
		return nil, 0, errors.New("handshake: Dovecot does not offer the PLAIN mechanism (auth_mechanisms)")
	}
	nc.SetDeadline(time.Time{})
	c := &dcConn{c: nc, pending: map[uint32]chan string{}}
	go d.read(c, br)
	d.conn = c
	return c, d.id, nil
}

// read dispatches replies to their requests until the connection fails.
func (d *Dovecot) read(c *dcConn, br *bufio.Reader) {
	for {
		line, err := br.ReadString('\n')
		if err != nil {
			d.fail(c, err)
			return
		}
		kind, rest, _ := strings.Cut(strings.TrimRight(line, "\n"), "\t")
		idStr, params, _ := strings.Cut(rest, "\t")
		id, err := strconv.ParseUint(idStr, 10, 32)
		if err != nil || (kind != "OK" && kind != "FAIL" && kind != "CONT") {
			continue
		}
		c.mu.Lock()
		ch := c.pending[uint32(id)]
		delete(c.pending, uint32(id))
		c.mu.Unlock()
		if ch != nil {
			reply := kind
			if params != "" {
				reply += "\t" + params
			}
			ch <- reply
		}
	}
}

// fail closes c and wakes every request waiting on it.
func (d *Dovecot) fail(c *dcConn, err error) {
	c.mu.Lock()
	if c.err == nil {
		c.err = fmt.Errorf("connection lost: %w", err)
		for id, ch := range c.pending {
			close(ch)
			delete(c.pending, id)
		}
	}
	c.mu.Unlock()
	c.c.Close()
}

// Close closes the connection to Dovecot.
func (d *Dovecot) Close() error {
	d.mu.Lock()
	c := d.conn
	d.conn = nil
	d.mu.Unlock()
	if c != nil {
		d.fail(c, net.ErrClosed)
	}
	return nil
}

// tabEscape and tabUnescape are Dovecot's escaping of tab-separated
// protocol values.
func tabEscape(s string) string {
	return strings.NewReplacer("\x01", "\x011", "\t", "\x01t", "\r", "\x01r", "\n", "\x01n").Replace(s)
}

func tabUnescape(s string) string {
	return strings.NewReplacer("\x011", "\x01", "\x01t", "\t", "\x01r", "\r", "\x01n", "\n").Replace(s)
}
