package transport

import (
	"errors"
	"fmt"

	"github.com/emersion/go-smtp"

	"github.com/vacationd/vacationd/mailaddr"
)

// session is the policy side of one LMTP session: what the server asks
// of a transaction (the in-flight budget, shutdown, the RcptChecker) and
// the envelope it builds. protocol runs the commands.
type session struct {
	srv    *Server
	conn   *conn
	client Envelope  // client fields only
	env    *Envelope // the transaction in progress, nil if none
	size   int64     // the SIZE the client declared at MAIL FROM, 0 if none
}

func newServerSession(srv *Server, c *conn) *session {
	s := &session{srv: srv, conn: c}
	s.client = Envelope{ClientAddr: c.RemoteAddr(), SessionID: newSessionID(), Proxied: c.proxied}
	return s
}

var errShuttingDown = &smtp.SMTPError{
	Code:         421,
	EnhancedCode: smtp.EnhancedCode{4, 3, 2},
	Message:      "Service shutting down, try again later",
}

// mail starts a transaction from the sender from (a quoted local part
// unquoted), hello being the client's latest LHLO.
func (s *session) mail(from, hello string, mp mailParams) error {
	if err := badAddress(from, 7, "sender"); err != nil {
		return err
	}
	if err := undeclaredUTF8(from, mp.utf8); err != nil {
		return err
	}
	size := max(mp.size, 1)
	if !s.srv.inflight.fits(size) {
		s.srv.overBudget.Add(1)
		s.srv.warnRefusal("inflight", "lmtp: message memory budget spent, MAIL FROM deferred",
			"client", addrString(s.client.ClientAddr), "size", size, "max_inflight_bytes", s.srv.cfg.MaxInflightBytes)
		return errOverBudget
	}
	if !s.conn.begin() {
		return errShuttingDown
	}
	env := s.client
	env.ClientHost = hello
	env.From = mailaddr.Quote(from)
	env.UTF8 = mp.utf8
	s.env = &env
	s.size = mp.size
	return nil
}

// rcpt adds the recipient to (a quoted local part unquoted) with the
// ORCPT orcpt ("" if none).
func (s *session) rcpt(to, orcpt string) error {
	if err := badAddress(to, 3, "recipient"); err != nil {
		return err
	}
	if err := undeclaredUTF8(to, s.env.UTF8); err != nil {
		return err
	}
	r := Recipient{Addr: mailaddr.Quote(to), ORCPT: orcpt}
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
	return nil
}

// errOverBudget defers a transaction while the memory budget for
// messages in flight (Config.MaxInflightBytes) is spent.
var errOverBudget = &smtp.SMTPError{
	Code:         452,
	EnhancedCode: smtp.EnhancedCode{4, 3, 1},
	Message:      "Insufficient system storage, try again later",
}

// reset ends the transaction; while the server drains, the connection
// is then closed.
func (s *session) reset() {
	if s.env == nil {
		return
	}
	s.env = nil
	s.size = 0
	s.conn.end()
}

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

// statusErr turns a Status into the *smtp.SMTPError the protocol writes as the
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
		ec = smtp.EnhancedCodeNotSet // the reply fills in X.0.0
	}
	return &smtp.SMTPError{Code: st.Code, EnhancedCode: ec, Message: msg}
}

// dataReadErr maps an error reading DATA: the protocol's own errors (size limit)
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
