package transport

import (
	"bufio"
	"fmt"
	"net"
	"net/netip"
	"sync"
	"sync/atomic"
	"time"

	proxyproto "github.com/pires/go-proxyproto"
)

// limitListener refuses connections beyond Config.MaxConns with a 421 and
// counts the open ones.
type limitListener struct {
	net.Listener
	srv *Server
}

func (l *limitListener) Accept() (net.Conn, error) {
	for {
		c, err := l.Listener.Accept()
		if err != nil {
			return nil, err
		}
		if l.srv.active.Add(1) > int64(l.srv.cfg.MaxConns) {
			l.srv.active.Add(-1)
			l.srv.busy.Add(1)
			l.srv.warnRefusal("max-conns", "lmtp: connection limit reached, connection refused",
				"peer", c.RemoteAddr().String(), "max_conns", l.srv.cfg.MaxConns)
			go refuse(c, "421 4.3.2 "+l.srv.cfg.Hostname+" too many connections, try again later")
			continue
		}
		ip, limited := l.srv.limitedIP(c.RemoteAddr())
		if limited && !l.srv.perIP.add(ip, l.srv.cfg.MaxConnsPerIP) {
			l.srv.active.Add(-1)
			l.srv.busyIP.Add(1)
			l.srv.warnRefusal("max-conns-per-ip", "lmtp: connection limit per client address reached, connection refused",
				"peer", c.RemoteAddr().String(), "max_conns_per_ip", l.srv.cfg.MaxConnsPerIP)
			go refuse(c, "421 4.7.0 "+l.srv.cfg.Hostname+" too many connections from your address, try again later")
			continue
		}
		l.srv.accepted.Add(1)
		return &countedConn{Conn: withPeer(c), srv: l.srv, ip: ip, limited: limited}, nil
	}
}

func refuse(c net.Conn, reply string) {
	c.SetWriteDeadline(time.Now().Add(time.Second))
	fmt.Fprintf(c, "%s\r\n", reply)
	c.Close()
}

// countedConn gives its slots back when closed.
type countedConn struct {
	net.Conn
	srv     *Server
	ip      netip.Addr // counted against MaxConnsPerIP when limited
	limited bool
	once    sync.Once
}

func (c *countedConn) Close() error {
	c.once.Do(func() {
		c.srv.active.Add(-1)
		if c.limited {
			c.srv.perIP.done(c.ip)
		}
	})
	return c.Conn.Close()
}

// trackListener wraps every accepted connection in a *conn registered with
// the server, so Shutdown can find idle ones.
type trackListener struct {
	net.Listener
	srv *Server
}

func (l *trackListener) Accept() (net.Conn, error) {
	for {
		c, err := l.Listener.Accept()
		if err != nil {
			return nil, err
		}
		cn := &conn{Conn: c, srv: l.srv, born: time.Now()}
		if pc, ok := c.(*proxyproto.Conn); ok {
			cn.pc = pc
		} else if l.srv.cfg.Proxy == ProxyOptional {
			cn.sniff = true // served at once; the first bytes decide
			cn.mayProxy = l.srv.trusted(c.RemoteAddr())
		}
		l.srv.mu.Lock()
		draining := l.srv.draining.Load()
		if !draining {
			l.srv.conns[cn] = struct{}{}
		}
		l.srv.mu.Unlock()
		if draining {
			c.Close()
			continue
		}
		return cn, nil
	}
}

// conn is one LMTP connection as the protocol sees it. Before the first byte
// goes either way it runs the PROXY gate: the header read for connections
// that must carry one, and on the first read of a ProxyOptional
// connection, a look at the first bytes: a header from a trusted peer is
// read, one from an untrusted peer closes the connection.
type conn struct {
	net.Conn // *proxyproto.Conn when pc != nil
	srv      *Server
	pc       *proxyproto.Conn
	sniff    bool
	mayProxy bool     // sniff: the peer is trusted to send a header
	src      net.Addr // sniff: the client address a header carried

	clientIP      netip.Addr // a header's client, counted against MaxConnsPerIP
	clientCounted bool

	headerOnce sync.Once
	headerErr  error
	proxied    bool

	sniffOnce sync.Once
	sniffErr  error
	br        *bufio.Reader

	rdl, wdl lazyDeadline // the read and write deadlines (see lazyDeadline)

	born  time.Time   // accepted at
	spoke atomic.Bool // the client has sent something

	wmu  sync.Mutex
	held []byte // replies not yet written (see Write)

	mu        sync.Mutex
	busy      bool // a transaction is in progress
	closed    bool
	closeOnce sync.Once
}

// RemoteAddr is the client's address: the one a PROXY header carried, else
// the socket's peer.
func (c *conn) RemoteAddr() net.Addr {
	if c.src != nil {
		return c.src
	}
	return c.Conn.RemoteAddr()
}

// SetReadDeadline is the socket's, except that until the client has sent
// something the deadline is at most GreetTimeout after the connection was
// accepted: connections that never speak are cut sooner than sessions.
// A deadline later by less than 1/100 of ReadTimeout than the one in place
// is not set (see lazyDeadline).
func (c *conn) SetReadDeadline(t time.Time) error {
	if !t.IsZero() && !c.spoke.Load() {
		if d := c.born.Add(c.srv.cfg.GreetTimeout); d.Before(t) {
			t = d
		}
	}
	return c.rdl.set(t, deadlineSlack(c.srv.cfg.ReadTimeout), c.Conn.SetReadDeadline)
}

// SetWriteDeadline is the socket's, set lazily as SetReadDeadline.
func (c *conn) SetWriteDeadline(t time.Time) error {
	return c.wdl.set(t, deadlineSlack(c.srv.cfg.WriteTimeout), c.Conn.SetWriteDeadline)
}

// SetDeadline sets both.
func (c *conn) SetDeadline(t time.Time) error {
	if err := c.SetReadDeadline(t); err != nil {
		return err
	}
	return c.SetWriteDeadline(t)
}

// peer is the socket's peer address (not the one a header carried).
func (c *conn) peer() net.Addr {
	if c.pc != nil {
		return c.pc.Raw().RemoteAddr()
	}
	return c.Conn.RemoteAddr()
}

func (c *conn) header() error {
	if c.pc == nil {
		return nil
	}
	c.headerOnce.Do(func() {
		proxied, err := c.srv.readHeader(c.pc)
		if err == nil {
			err = c.rdl.restore(c.Conn.SetReadDeadline) // readHeader cleared it
		}
		if err != nil {
			if !c.isClosed() {
				c.srv.rejectProxy(c.peer(), classifyHeaderErr(err), err)
			}
			c.Close()
			c.headerErr = fmt.Errorf("PROXY header: %w", net.ErrClosed)
			return
		}
		c.proxied = proxied
		if proxied {
			c.headerErr = c.countClient(c.pc.RemoteAddr())
		}
	})
	return c.headerErr
}

// countClient counts a proxied connection against MaxConnsPerIP by the
// client address its header carried (the proxy's own address is not
// counted); over the cap it answers 421 and closes the connection.
func (c *conn) countClient(a net.Addr) error {
	ta, ok := a.(*net.TCPAddr)
	if !ok || c.srv.cfg.MaxConnsPerIP < 0 {
		return nil
	}
	ip, ok := netip.AddrFromSlice(ta.IP)
	if !ok {
		return nil
	}
	ip = ip.Unmap()
	if !c.srv.perIP.add(ip, c.srv.cfg.MaxConnsPerIP) {
		c.srv.busyIP.Add(1)
		c.srv.warnRefusal("max-conns-per-ip", "lmtp: connection limit per client address reached, connection refused",
			"peer", c.peer().String(), "client", a.String(), "max_conns_per_ip", c.srv.cfg.MaxConnsPerIP)
		c.wdl.set(time.Now().Add(time.Second), 0, c.Conn.SetWriteDeadline)
		fmt.Fprintf(c.Conn, "421 4.7.0 %s too many connections from your address, try again later\r\n", c.srv.cfg.Hostname)
		c.Close()
		return fmt.Errorf("connection limit per client address: %w", net.ErrClosed)
	}
	c.clientIP, c.clientCounted = ip, true
	return nil
}

func (c *conn) Read(b []byte) (int, error) {
	if err := c.header(); err != nil {
		return 0, err
	}
	// The protocol reads from the network only when it has no buffered
	// input left: the replies written since the last read go out now, in
	// one write. While a pipelining client's commands are still buffered,
	// their replies accumulate, as Postfix's servers do.
	if err := c.send(); err != nil {
		return 0, err
	}
	if c.sniff {
		c.sniffOnce.Do(func() {
			br := bufio.NewReaderSize(c.Conn, 512)
			if looksLikeProxyHeader(br) {
				if !c.mayProxy {
					c.srv.rejectProxy(c.peer(), RejectUntrusted,
						fmt.Errorf("PROXY header from %s, which is not in the trusted networks", c.peer()))
					c.Close()
					c.sniffErr = fmt.Errorf("PROXY header from untrusted peer: %w", net.ErrClosed)
					return
				}
				src, err := c.srv.readOptionalHeader(c.Conn, br)
				if err == nil {
					err = c.rdl.restore(c.Conn.SetReadDeadline) // the header read cleared it
				}
				if err != nil {
					if !c.isClosed() {
						c.srv.rejectProxy(c.peer(), classifyHeaderErr(err), err)
					}
					c.Close()
					c.sniffErr = fmt.Errorf("PROXY header: %w", net.ErrClosed)
					return
				}
				if src != nil {
					c.src, c.proxied = src, true
					if err := c.countClient(src); err != nil {
						c.sniffErr = err
						return
					}
				}
			}
			c.br = br
		})
		if c.sniffErr != nil {
			return 0, c.sniffErr
		}
		if c.br != nil {
			if c.br.Buffered() > 0 {
				n, err := c.br.Read(b)
				c.heard(n)
				return n, err
			}
			c.br = nil
		}
	}
	n, err := c.Conn.Read(b)
	c.heard(n)
	return n, err
}

// heard notes that the client has sent something (see SetReadDeadline).
func (c *conn) heard(n int) {
	if n > 0 && !c.spoke.Load() {
		c.spoke.Store(true)
	}
}

// Write holds replies until the next Read (or Close, or maxHeld bytes), so
// the replies to pipelined commands and the lines of a multi-line reply go
// out in one write instead of one each. A write error surfaces at the
// flush, which the next Read or Close performs.
func (c *conn) Write(b []byte) (int, error) {
	if err := c.header(); err != nil {
		return 0, err
	}
	c.wmu.Lock()
	c.held = append(c.held, b...)
	full := len(c.held) >= maxHeld
	c.wmu.Unlock()
	if full {
		if err := c.send(); err != nil {
			return 0, err
		}
	}
	return len(b), nil
}

// send writes the held replies within WriteTimeout.
func (c *conn) send() error {
	c.wmu.Lock()
	n := len(c.held)
	c.wmu.Unlock()
	if n == 0 {
		return nil
	}
	c.SetWriteDeadline(time.Now().Add(c.srv.cfg.WriteTimeout))
	return c.flush()
}

// flush writes the held replies.
func (c *conn) flush() error {
	c.wmu.Lock()
	defer c.wmu.Unlock()
	if len(c.held) == 0 {
		return nil
	}
	_, err := c.Conn.Write(c.held)
	c.held = c.held[:0]
	return err
}

// maxHeld bounds the replies held back by conn.Write.
const maxHeld = 16 << 10

func (c *conn) Close() error {
	var err error
	c.closeOnce.Do(func() {
		c.mu.Lock()
		c.closed = true
		c.mu.Unlock()
		if c.clientCounted {
			c.srv.perIP.done(c.clientIP)
		}
		c.srv.untrack(c)
		// Replies still held (a 421, the last per-recipient replies
		// before a shutdown closes the connection) go out first.
		c.wdl.set(time.Now().Add(time.Second), 0, c.Conn.SetWriteDeadline)
		c.flush()
		err = c.Conn.Close()
	})
	return err
}

func (c *conn) isClosed() bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.closed
}

// begin marks a transaction in progress; it fails while draining.
func (c *conn) begin() bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.srv.draining.Load() {
		return false
	}
	c.busy = true
	return true
}

// end marks the transaction finished and, while draining, closes the
// connection (its replies are already written).
func (c *conn) end() {
	c.mu.Lock()
	c.busy = false
	c.mu.Unlock()
	if c.srv.draining.Load() {
		c.closeIfIdle()
	}
}

func (c *conn) closeIfIdle() {
	c.mu.Lock()
	idle := !c.busy && !c.closed
	if idle {
		c.closed = true
	}
	c.mu.Unlock()
	if idle {
		// Replies still held go out first; closing the socket then ends
		// the protocol's read loop, which calls Close (and untracks c).
		c.wdl.set(time.Now().Add(time.Second), 0, c.Conn.SetWriteDeadline)
		c.flush()
		c.Conn.Close()
	}
}
