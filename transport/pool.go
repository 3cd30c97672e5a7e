package transport

import (
	"context"
	"net"
	"sync"
	"time"

	"github.com/emersion/go-smtp"
)

// client is an open SMTP or LMTP session kept for reuse.
type client struct {
	cl    *smtp.Client   // setup and QUIT
	s     *clientSession // the transactions
	raw   net.Conn       // the socket, closed to interrupt the session
	since time.Time
}

func (c *client) close() { c.cl.Close(); c.raw.Close() }

// quit ends the session politely, waiting at most a second for the reply.
func (c *client) quit() {
	t := time.AfterFunc(time.Second, func() { c.raw.Close() })
	c.cl.Quit()
	t.Stop()
	c.close()
}

// watch closes the connection if ctx ends before stop is called.
func (c *client) watch(ctx context.Context) (stop func() bool) {
	return context.AfterFunc(ctx, func() { c.raw.Close() })
}

// pool keeps idle sessions. A session whose last transaction finished is
// reused as it is (RFC 5321 section 4.1.4: the end of DATA resets the
// state); one whose transaction did not finish is reset with RSET, which
// also checks it is alive. Sessions idle longer than idleTimeout are
// closed; a server that closed an idle session makes the next transaction
// on it fail before DATA, and the caller dials again.
type pool struct {
	maxIdle     int
	idleTimeout time.Duration

	mu     sync.Mutex
	idle   []*client
	closed bool
}

// get returns a live idle session, or nil when there is none.
func (p *pool) get(ctx context.Context) *client {
	for {
		p.mu.Lock()
		if len(p.idle) == 0 {
			p.mu.Unlock()
			return nil
		}
		c := p.idle[len(p.idle)-1]
		p.idle = p.idle[:len(p.idle)-1]
		p.mu.Unlock()
		idle := time.Since(c.since)
		if idle > p.idleTimeout {
			c.close() // the peer has probably timed it out already
			continue
		}
		if !c.s.dirty {
			// A session back in the pool for less than a second is
			// taken without the peek (a system call): under load every
			// session is, and one the server closed meanwhile (a
			// restart) fails before any reply and is dialled again.
			if idle < time.Second || alive(c.raw) {
				return c
			}
			c.close()
			continue
		}
		stop := c.watch(ctx)
		err := c.s.reset()
		stopped := stop()
		if err != nil || !stopped {
			c.close()
			if ctx.Err() != nil {
				return nil
			}
			continue
		}
		return c
	}
}

// put returns a session in a clean state to the pool, or closes it.
func (p *pool) put(c *client) {
	p.mu.Lock()
	if p.closed || len(p.idle) >= p.maxIdle {
		p.mu.Unlock()
		c.quit()
		return
	}
	c.since = time.Now()
	p.idle = append(p.idle, c)
	p.mu.Unlock()
}

// close ends every idle session with QUIT; later puts close their session.
func (p *pool) close() {
	p.mu.Lock()
	idle := p.idle
	p.idle, p.closed = nil, true
	p.mu.Unlock()
	for _, c := range idle {
		c.quit()
	}
}
