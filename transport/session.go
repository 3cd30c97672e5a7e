package transport

import (
	"errors"
	"fmt"
	"io"

	"github.com/emersion/go-smtp"

	"github.com/vacationd/vacationd/mailaddr"
)

// backend is the go-smtp Backend of a Server.
type backend struct{ srv *Server }

func (b backend) NewSession(c *smtp.Conn) (smtp.Session, error) {
	s := &session{srv: b.srv, sc: c}
	s.conn, _ = c.Conn().(*conn)
	s.client = Envelope{ClientAddr: c.Conn().RemoteAddr(), SessionID: newSessionID()}
	if s.conn != nil {
		s.client.Proxied = s.conn.proxied
	}
	return s, nil
}

// session is one LMTP session; env is the transaction in progress.
type session struct {
	srv    *Server
	sc     *smtp.Conn
	conn   *conn
	client Envelope // client fields only
	env    *Envelope
	// rcpts are the recipients as go-smtp parsed them (a quoted local
	// part unquoted), which its StatusCollector knows them by; env has
	// them quoted again.
	rcpts []string
	size  int64 // the SIZE the client declared at MAIL FROM, 0 if none
	// readAll is set once a message was read to its end; a
	// chunked message Reset finds unread was aborted.
	readAll bool
	// aborted: a chunked message was aborted, so the session takes no
	// more transactions (see Reset).
	aborted bool
}

// errChunksAborted refuses a transaction after an aborted chunked message.
var errChunksAborted = &smtp.SMTPError{
	Code:         421,
	EnhancedCode: smtp.EnhancedCode{4, 5, 0},
	Message:      "Chunked message aborted: closing the connection, send again on a new one",
}

var errShuttingDown = &smtp.SMTPError{
	Code:         421,
	EnhancedCode: smtp.EnhancedCode{4, 3, 2},
	Message:      "Service shutting down, try again later",
}

func (s *session) Mail(from string, opts *smtp.MailOptions) error {
	if s.aborted {
		return errChunksAborted
	}
	if err := badAddress(from, 7, "sender"); err != nil {
		return err
	}
	if err := undeclaredUTF8(from, opts != nil && opts.UTF8); err != nil {
		return err
	}
	size := int64(1)
	if opts != nil && opts.Size > 0 {
		size = opts.Size
	}
	if !s.srv.inflight.fits(size) {
		s.srv.overBudget.Add(1)
		s.srv.warnRefusal("inflight", "lmtp: message memory budget spent, MAIL FROM deferred",
			"client", addrString(s.client.ClientAddr), "size", size, "max_inflight_bytes", s.srv.cfg.MaxInflightBytes)
		return errOverBudget
	}
	if s.conn != nil && !s.conn.begin() {
		return errShuttingDown
	}
	env := s.client
	env.ClientHost = s.sc.Hostname() // the latest LHLO
	env.From = mailaddr.Quote(from)  // go-smtp unquotes a quoted local part
	env.UTF8 = opts != nil && opts.UTF8
	s.env = &env
	s.rcpts = s.rcpts[:0]
	s.size = 0
	if opts != nil {
		s.size = opts.Size
	}
	return nil
}

func (s *session) Rcpt(to string, opts *smtp.RcptOptions) error {
	if err := badAddress(to, 3, "recipient"); err != nil {
		return err
	}
	if err := undeclaredUTF8(to, s.env.UTF8); err != nil {
		return err
	}
	r := Recipient{Addr: mailaddr.Quote(to)}
	if opts != nil {
		r.ORCPT = opts.OriginalRecipient
	}
	if rc, ok := s.srv.cfg.Deliverer.(RcptChecker); ok {
		if st := rc.CheckRcpt(s.srv.ctx, s.env, r); st != nil {
			if st.OK() {
				s.srv.log.Error("lmtp: RcptChecker returned a success status; accepting", "status", st.String())
			} else {
				if !st.valid() {
					s.srv.log.Error("lmtp: RcptChecker returned an invalid status", "status", st.String())
					return statusErr(StatusTempFail("Internal error"))
				}
				return statusErr(*st)
			}
		}
	}
	s.env.Recipients = append(s.env.Recipients, r)
	s.rcpts = append(s.rcpts, to)
	return nil
}

// errOverBudget defers a transaction while the memory budget for
// messages in flight (Config.MaxInflightBytes) is spent.
var errOverBudget = &smtp.SMTPError{
	Code:         452,
	EnhancedCode: smtp.EnhancedCode{4, 3, 1},
	Message:      "Insufficient system storage, try again later",
}

// LMTPData reads the message and answers per recipient.
func (s *session) LMTPData(r io.Reader, sc smtp.StatusCollector) error {
	msg, held, err := s.read(r)
	if err != nil {
		return err
	}
	defer s.srv.inflight.give(held)
	st := s.deliver(msg)
	for i, rcpt := range s.rcpts {
		sc.SetStatus(rcpt, statusErr(st[i]))
	}
	return nil
}

// Data is the single-reply form go-smtp uses outside LMTP mode: the first
// failure, or success when every recipient succeeded.
func (s *session) Data(r io.Reader) error {
	msg, held, err := s.read(r)
	if err != nil {
		return err
	}
	defer s.srv.inflight.give(held)
	for _, st := range s.deliver(msg) {
		if !st.OK() {
			return statusErr(st)
		}
	}
	return nil
}

// read reads the message into memory, reserving in the server's budget
// every buffer it allocates (before allocating it); held is what the
// caller gives back once the message is answered. With a SIZE declared at
// MAIL FROM the buffer is allocated once at that size, so a message that
// would not fit is refused before any of it is held. A message that runs
// over the budget is read to its end without being kept (so DATA and BDAT
// stay in step) and answered with errOverBudget.
func (s *session) read(r io.Reader) (msg []byte, held int64, err error) {
	var buf []byte
	over := func(read int64) ([]byte, int64, error) {
		s.srv.inflight.give(held)
		s.srv.overBudget.Add(1)
		// Logged before the rest is read: a chunked message aborted
		// meanwhile has its envelope reset.
		s.srv.warnRefusal("inflight", "lmtp: message memory budget spent, message deferred",
			"client", addrString(s.env.ClientAddr), "from", s.env.From, "read", read,
			"max_inflight_bytes", s.srv.cfg.MaxInflightBytes)
		if _, err := io.Copy(io.Discard, r); err == nil {
			s.readAll = true
		}
		return nil, 0, errOverBudget
	}
	// grow makes room for n more bytes, reserving the new buffer first;
	// the old one is counted until the message is answered (it is garbage
	// the collector has not reclaimed yet).
	grow := func(n int) bool {
		if len(buf)+n <= cap(buf) {
			return true
		}
		c := max(2*cap(buf), len(buf)+n)
		if !s.srv.inflight.take(int64(c)) {
			return false
		}
		held += int64(c)
		nb := make([]byte, len(buf), c)
		copy(nb, buf)
		buf = nb
		return true
	}
	if s.size > 0 && s.size <= s.srv.cfg.MaxMessageBytes && !grow(int(s.size)+2) {
		return over(0)
	}
	cp := s.srv.chunks.Get().(*[]byte)
	defer s.srv.chunks.Put(cp)
	chunk := *cp
	for {
		n, rerr := r.Read(chunk)
		if n > 0 {
			if !grow(n) {
				return over(int64(len(buf) + n))
			}
			buf = append(buf, chunk[:n]...)
		}
		if rerr == io.EOF {
			s.readAll = true
			return buf, held, nil
		}
		if rerr != nil {
			s.srv.inflight.give(held)
			return nil, 0, dataReadErr(rerr)
		}
	}
}

// Reset ends the transaction. When it ends a chunked message before its
// LAST chunk (RSET, LHLO, a chunk over the size limit), go-smtp's
// goroutine running LMTPData for it is still to deliver its read error,
// and it delivers it to the channel of whichever chunked message starts
// next on the session (conn.go, handleBdat: dataResult is read when the
// goroutine ends): that message was delivered and answered with the
// aborted one's 451, and its own result stayed blocked. So the session
// takes no more transactions (MAIL gets errChunksAborted, which also
// answers pipelined commands already read) and the connection ends at the
// next read, after the replies.
func (s *session) Reset() {
	s.env = nil
	if s.conn != nil {
		if s.conn.chunked.Swap(false) && !s.readAll {
			s.aborted = true
			s.conn.closing.Store(true)
			s.srv.log.Info("lmtp: chunked message aborted before its LAST chunk; closing the connection",
				"client", addrString(s.client.ClientAddr), "session", s.client.SessionID)
		}
		s.conn.end()
	}
	s.readAll = false
}

// Logout may run on another goroutine (go-smtp's Server.Close) while
// LMTPData is still running, so it touches nothing.
func (s *session) Logout() error { return nil }

// deliver calls the Deliverer and makes its answer safe to send: exactly
// one valid status per recipient, 451 wherever it fell short.
func (s *session) deliver(msg []byte) (st []Status) {
	s.srv.messages.Add(1)
	n := len(s.env.Recipients)
	defer func() {
		if v := recover(); v != nil {
			s.srv.log.Error("lmtp: Deliverer panicked", "panic", fmt.Sprint(v),
				"client", addrString(s.env.ClientAddr), "from", s.env.From)
			st = make([]Status, n)
			for i := range st {
				st[i] = StatusTempFail("Internal error, try again later")
			}
		}
	}()
	got := s.srv.cfg.Deliverer.Deliver(s.srv.ctx, s.env, msg)
	if len(got) != n {
		s.srv.log.Error("lmtp: Deliverer returned the wrong number of statuses",
			"want", n, "got", len(got), "from", s.env.From)
	}
	st = make([]Status, n)
	for i := range st {
		if i >= len(got) || !got[i].valid() {
			if i < len(got) {
				s.srv.log.Error("lmtp: Deliverer returned an invalid status",
					"rcpt", s.env.Recipients[i].Addr, "status", got[i].String())
			}
			st[i] = StatusTempFail("Internal error, try again later")
			continue
		}
		st[i] = got[i]
	}
	return st
}

// statusErr turns a Status into the *smtp.SMTPError go-smtp writes as the
// reply (2xx included).
func statusErr(st Status) error {
	msg := st.Message
	if msg == "" {
		switch {
		case st.OK():
			msg = "OK"
		case st.Temporary():
			msg = "Try again later"
		default:
			msg = "Failed"
		}
	}
	ec := smtp.EnhancedCode(st.Enhanced)
	if st.Enhanced == [3]int{} {
		ec = smtp.EnhancedCodeNotSet // go-smtp fills in X.0.0
	}
	return &smtp.SMTPError{Code: st.Code, EnhancedCode: ec, Message: msg}
}

// dataReadErr maps an error reading DATA: go-smtp's own errors (size limit)
// pass through, anything else (a broken connection) is temporary.
func dataReadErr(err error) error {
	var se *smtp.SMTPError
	if errors.As(err, &se) {
		return se
	}
	return &smtp.SMTPError{
		Code:         451,
		EnhancedCode: smtp.EnhancedCode{4, 4, 2},
		Message:      "Error reading message: " + err.Error(),
	}
}

func addrString(a interface{ String() string }) string {
	if a == nil {
		return ""
	}
	return a.String()
}
