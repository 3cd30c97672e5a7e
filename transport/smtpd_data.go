package transport

import (
	"bufio"
	"errors"
	"io"

	"github.com/emersion/go-smtp"
)

// errTooLarge answers a message over MaxMessageBytes.
var errTooLarge = &smtp.SMTPError{
	Code:         552,
	EnhancedCode: smtp.EnhancedCode{5, 3, 4},
	Message:      "Message size exceeds the limit",
}

// dotReader reads DATA content (RFC 5321 section 4.5.2): it ends at a
// line holding a single dot, undoes dot-stuffing, and passes the rest
// through unchanged (CRLF line endings included). Only CRLF ends a line:
// a dot after a bare LF is content. It reads whole lines from the
// connection's buffer, not octet by octet. More than left octets of
// content make it fail with errTooLarge.
type dotReader struct {
	r    *bufio.Reader
	left int64
	mid  bool   // inside a line: a dot here is content
	cr   bool   // the last octet read was CR (a line read in parts)
	pend []byte // the rest of the current line, in r's buffer
	done bool   // the end line was read
}

// Read gives the content read so far, at least one octet unless the
// content has ended (io.EOF) or reading failed.
func (d *dotReader) Read(b []byte) (int, error) {
	n := 0
	for n < len(b) {
		if len(d.pend) == 0 {
			if d.done || n > 0 && d.r.Buffered() == 0 {
				break // what there is goes now, before a read that may block
			}
			if err := d.next(); err != nil {
				return n, err
			}
			continue
		}
		k := copy(b[n:], d.pend)
		d.pend = d.pend[k:]
		n += k
	}
	if d.done && len(d.pend) == 0 {
		return n, io.EOF
	}
	return n, nil
}

// next reads the next line (or part of a long one) into pend.
func (d *dotReader) next() error {
	line, err := d.r.ReadSlice('\n')
	switch {
	case errors.Is(err, bufio.ErrBufferFull): // a part of a long line
	case errors.Is(err, io.EOF):
		return io.ErrUnexpectedEOF
	case err != nil:
		return err
	}
	if !d.mid && len(line) > 0 && line[0] == '.' {
		if len(line) == 3 && line[1] == '\r' && line[2] == '\n' {
			d.done = true
			return nil
		}
		line = line[1:]
	}
	n := len(line)
	switch {
	case n == 0:
	case line[n-1] != '\n':
		d.mid, d.cr = true, line[n-1] == '\r'
	default:
		d.mid = !(n >= 2 && line[n-2] == '\r' || n == 1 && d.cr)
		d.cr = false
	}
	if int64(n) > d.left {
		d.left = 0
		return errTooLarge
	}
	d.left -= int64(n)
	d.pend = line
	return nil
}

// discard reads what is left of the content, so the session can go on
// after a message refused part way. It stops at a read error.
func (d *dotReader) discard() {
	d.left = 1<<63 - 1
	d.pend = nil
	for !d.done {
		if d.next() != nil {
			return
		}
		d.pend = nil
	}
}

// chunkReader reads the octets of one BDAT chunk (RFC 3030); a
// connection that ends first is io.ErrUnexpectedEOF.
type chunkReader struct {
	r    *bufio.Reader
	left int64
}

func (c *chunkReader) Read(b []byte) (int, error) {
	if c.left <= 0 {
		return 0, io.EOF
	}
	if int64(len(b)) > c.left {
		b = b[:c.left]
	}
	n, err := c.r.Read(b)
	c.left -= int64(n)
	if errors.Is(err, io.EOF) {
		err = io.ErrUnexpectedEOF
	}
	return n, err
}

// discard reads what is left of the chunk.
func (c *chunkReader) discard() { io.Copy(io.Discard, c) }

// message is a message being received. Its buffer is reserved in the
// server's memory budget (Config.MaxInflightBytes) before it is
// allocated, and stays reserved until release, after the answer: the
// Deliverer may hold on to it until it returns.
type message struct {
	srv      *Server
	env      *Envelope
	buf      []byte
	held     int64 // reserved in srv.inflight
	want     int64 // the SIZE declared at MAIL FROM, allocated at the first read
	received int64 // octets received, kept or not (BDAT chunks count to the limit)
}

func (p *protocol) newMessage() *message {
	m := &message{srv: p.srv, env: p.sess.env}
	if sz := p.sess.size; sz > 0 && sz <= p.srv.cfg.MaxMessageBytes {
		m.want = sz + 2
	}
	return m
}

// minRead is the room made for a read when the buffer is full.
const minRead = 4 << 10

// readFrom appends r's content up to io.EOF. With a SIZE declared, the
// buffer is allocated once at that size, so a message that would not fit
// the budget is refused before any of it is held. A message that runs
// over the budget is read to its end without being kept (so DATA and
// BDAT stay in step) and refused with errOverBudget; the budget is then
// given back at once.
func (m *message) readFrom(r io.Reader) error {
	if m.want > 0 {
		w := m.want
		m.want = 0
		if !m.grow(int(w)) {
			return m.over(r)
		}
	}
	for {
		if len(m.buf) == cap(m.buf) && !m.grow(m.room()) {
			return m.over(r)
		}
		n, err := r.Read(m.buf[len(m.buf):cap(m.buf)])
		m.buf = m.buf[:len(m.buf)+n]
		m.received += int64(n)
		if errors.Is(err, io.EOF) {
			return nil
		}
		if err != nil {
			return dataReadErr(err)
		}
	}
}

// room is the room to make for the next read: minRead, or less when the
// message cannot grow that much (so that a small MaxInflightBytes is not
// spent on room the message may never use).
func (m *message) room() int {
	n := int64(minRead)
	if left := m.srv.cfg.MaxMessageBytes - int64(len(m.buf)) + 1; left < n {
		n = max(left, 1)
	}
	return int(n)
}

// grow makes room for n more octets, reserving the new buffer first; the
// old one stays counted until release (it is garbage the collector has
// not reclaimed yet).
func (m *message) grow(n int) bool {
	if len(m.buf)+n <= cap(m.buf) {
		return true
	}
	c := max(2*cap(m.buf), len(m.buf)+n)
	if !m.srv.inflight.take(int64(c)) {
		return false
	}
	m.held += int64(c)
	nb := make([]byte, len(m.buf), c)
	copy(nb, m.buf)
	m.buf = nb
	return true
}

// over refuses a message over the budget: it is logged, read to its end
// and dropped.
func (m *message) over(r io.Reader) error {
	s := m.srv
	s.overBudget.Add(1)
	read := int64(len(m.buf))
	m.release()
	s.warnRefusal("inflight", "lmtp: message memory budget spent, message deferred",
		"client", addrString(m.env.ClientAddr), "from", m.env.From, "read", read,
		"max_inflight_bytes", s.cfg.MaxInflightBytes)
	n, err := io.Copy(io.Discard, r)
	m.received += n
	if err != nil {
		return dataReadErr(err)
	}
	return errOverBudget
}

// release gives the buffer's reservation back.
func (m *message) release() {
	m.srv.inflight.give(m.held)
	m.held = 0
	m.buf = nil
}
