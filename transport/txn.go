package transport

import (
	"errors"
	"fmt"
	"io"
	"net"
	"net/textproto"
	"strconv"
	"strings"
	"time"

	"github.com/emersion/go-smtp"
)

// A client session (SMTP to the relay, LMTP to the downstream) is opened
// with go-smtp's client: greeting, EHLO/LHLO, STARTTLS, AUTH. The mail
// transactions on it are run here, because go-smtp's client cannot
// pipeline (RFC 2920) and ends every reuse with RSET and a second EHLO.
// After the greeting go-smtp's reader holds no unread bytes (a server
// sends nothing unasked), so the session's replies are read here from then
// on; go-smtp's client is used again only for QUIT.

// txn is one mail transaction.
type txn struct {
	mail  string   // the MAIL FROM command line, without CRLF
	rcpts []string // one RCPT TO command line per recipient
	// allOrNothing (SMTP relay) stops at the first refused recipient and
	// sends DATA only when every recipient was accepted; otherwise (LMTP)
	// DATA goes to the accepted ones.
	allOrNothing bool
	header       string // written before body; ends in CRLF or is ""
	body         []byte
}

// txnResult holds the server's replies to a transaction. A nil entry is
// an accepted command; a refusal is an *smtp.SMTPError.
type txnResult struct {
	mail error
	// rcpt has one entry per recipient; errNotSent marks one not sent
	// (after an earlier refusal with allOrNothing).
	rcpt []error
	data error // the reply to DATA when it was not 354
	// final has the replies after the message: one for SMTP, one per
	// accepted recipient (in order) for LMTP. Nil when DATA was not sent.
	final []error
	// finalText holds the text of the final replies that accepted.
	finalText []string
}

var errNotSent = errors.New("not sent")

// txnError is a failure that leaves the session unusable: the connection
// broke, timed out, or the server answered 421.
type txnError struct {
	op  string // "MAIL FROM", "RCPT TO <addr>", "DATA", "end of DATA"
	err error
}

func (e *txnError) Error() string { return e.op + ": " + e.err.Error() }
func (e *txnError) Unwrap() error { return e.err }

// clientSession is the transaction side of a client: reads and writes after the
// go-smtp client's setup.
type clientSession struct {
	conn       net.Conn // as go-smtp's client talks on (TLS or not)
	text       *textproto.Conn
	pipelining bool
	lmtp       bool
	// chunking: an LMTP server that offers PIPELINING and CHUNKING gets a
	// transaction of one recipient with BDAT (see runChunk).
	chunking   bool
	cmdTimeout time.Duration
	endTimeout time.Duration // for the replies after the message
	// dirty means a transaction did not finish with the replies to the
	// message, so the next one must be preceded by RSET.
	dirty bool
}

func newSession(conn net.Conn, cl *smtp.Client, lmtp bool, cmdTimeout, endTimeout time.Duration) *clientSession {
	pipe, _ := cl.Extension("PIPELINING")
	chunk, _ := cl.Extension("CHUNKING")
	return &clientSession{
		conn:       conn,
		text:       textproto.NewConn(rwc{Reader: &lineLimitReader{r: conn}, Writer: conn, Closer: conn}),
		pipelining: pipe,
		lmtp:       lmtp,
		chunking:   lmtp && pipe && chunk,
		cmdTimeout: cmdTimeout,
		endTimeout: endTimeout,
	}
}

type rwc struct {
	io.Reader
	io.Writer
	io.Closer
}

// lineLimitReader fails a reply line longer than maxReplyLine, so a broken
// server cannot make us buffer without end.
type lineLimitReader struct {
	r   io.Reader
	cur int // bytes since the last LF
}

const maxReplyLine = 4096

func (l *lineLimitReader) Read(p []byte) (int, error) {
	n, err := l.r.Read(p)
	for _, b := range p[:n] {
		if b == '\n' {
			l.cur = 0
		} else if l.cur++; l.cur > maxReplyLine {
			return 0, fmt.Errorf("reply line longer than %d bytes", maxReplyLine)
		}
	}
	return n, err
}

// reset sends RSET when the last transaction did not finish.
func (s *clientSession) reset() error {
	if !s.dirty {
		return nil
	}
	s.conn.SetDeadline(time.Now().Add(s.cmdTimeout))
	defer s.conn.SetDeadline(time.Time{})
	s.text.W.WriteString("RSET\r\n")
	if err := s.text.W.Flush(); err != nil {
		return err
	}
	if _, err := s.read(250); err != nil {
		return err
	}
	s.dirty = false
	return nil
}

// read reads one reply; a reply of another class than want's is returned
// as an *smtp.SMTPError (a 421 too, which callers treat as fatal).
func (s *clientSession) read(want int) (string, error) {
	code, msg, err := s.text.ReadResponse(want)
	var te *textproto.Error
	if errors.As(err, &te) {
		ec, text := parseReplyText(te.Msg)
		return "", &smtp.SMTPError{Code: code, EnhancedCode: smtp.EnhancedCode(ec), Message: text}
	}
	return msg, err
}

// reply reads a reply to op: a refusal goes to *dst, a 421 or an I/O
// failure is returned as a *txnError.
func (s *clientSession) reply(op string, want int, dst *error) error {
	_, err := s.read(want)
	var se *smtp.SMTPError
	switch {
	case err == nil:
		*dst = nil
		return nil
	case errors.As(err, &se) && se.Code != 421:
		*dst = err
		return nil
	}
	return &txnError{op: op, err: err}
}

func (s *clientSession) send(line string) {
	s.text.W.WriteString(line)
	s.text.W.WriteString("\r\n")
}

func (s *clientSession) flush(op string) error {
	if err := s.text.W.Flush(); err != nil {
		return &txnError{op: op, err: err}
	}
	return nil
}

// run runs t. The error is a *txnError; the session is then unusable.
// With PIPELINING, MAIL, every RCPT and DATA go in one write (for
// allOrNothing with several recipients, DATA waits for the RCPT replies),
// else one command per round trip.
func (s *clientSession) run(t *txn) (res txnResult, err error) {
	if s.chunking && len(t.rcpts) == 1 {
		return s.runChunk(t)
	}
	s.conn.SetDeadline(time.Now().Add(s.cmdTimeout))
	defer s.conn.SetDeadline(time.Time{})
	s.dirty = true
	res.rcpt = make([]error, len(t.rcpts))
	for i := range res.rcpt {
		res.rcpt[i] = errNotSent
	}
	rcptOp := func(i int) string { return rcptOp(t.rcpts[i]) }
	// pipeData: DATA goes with the envelope without waiting for the RCPT
	// replies.
	pipeData := s.pipelining && (!t.allOrNothing || len(t.rcpts) == 1)
	accepted := 0
	if s.pipelining {
		s.send(t.mail)
		for _, r := range t.rcpts {
			s.send(r)
		}
		if pipeData {
			s.send("DATA")
		}
		if err := s.flush("MAIL FROM"); err != nil {
			return res, err
		}
		if err := s.reply("MAIL FROM", 250, &res.mail); err != nil {
			return res, err
		}
		for i := range t.rcpts {
			if err := s.reply(rcptOp(i), 250, &res.rcpt[i]); err != nil {
				return res, err
			}
			if res.rcpt[i] == nil {
				accepted++
			}
		}
		if res.mail != nil {
			accepted = 0
		}
	} else {
		s.send(t.mail)
		if err := s.flush("MAIL FROM"); err != nil {
			return res, err
		}
		if err := s.reply("MAIL FROM", 250, &res.mail); err != nil || res.mail != nil {
			return res, err
		}
		for i, r := range t.rcpts {
			s.send(r)
			if err := s.flush(rcptOp(i)); err != nil {
				return res, err
			}
			if err := s.reply(rcptOp(i), 250, &res.rcpt[i]); err != nil {
				return res, err
			}
			if res.rcpt[i] == nil {
				accepted++
			} else if t.allOrNothing {
				break
			}
		}
	}
	all := accepted == len(t.rcpts)
	if !pipeData {
		if accepted == 0 || t.allOrNothing && !all {
			return res, nil // RSET before the next transaction
		}
		s.send("DATA")
		if err := s.flush("DATA"); err != nil {
			return res, err
		}
	}
	if err := s.reply("DATA", 354, &res.data); err != nil || res.data != nil {
		return res, err
	}
	if accepted == 0 || t.allOrNothing && !all {
		// A server that answered DATA with 354 although it refused the
		// envelope gets an empty message, which reaches nobody.
		s.text.W.WriteString(".\r\n")
		if err := s.flush("DATA"); err != nil {
			return res, err
		}
		var ignored error
		if err := s.reply("end of DATA", 250, &ignored); err != nil {
			return res, err
		}
		return res, nil
	}
	s.conn.SetDeadline(time.Now().Add(s.endTimeout))
	dw := s.text.DotWriter()
	if _, err := io.WriteString(dw, t.header); err != nil {
		return res, &txnError{op: "DATA", err: err}
	}
	if _, err := dw.Write(t.body); err != nil {
		return res, &txnError{op: "DATA", err: err}
	}
	if err := dw.Close(); err != nil {
		return res, &txnError{op: "DATA", err: err}
	}
	n := 1
	if s.lmtp {
		n = accepted
	}
	res.final = make([]error, n)
	res.finalText = make([]string, n)
	for i := range n {
		text, err := s.read(250)
		var se *smtp.SMTPError
		switch {
		case err == nil:
			res.finalText[i] = text
		case errors.As(err, &se) && se.Code != 421:
			res.final[i] = err
		default:
			res.final = res.final[:i]
			res.finalText = res.finalText[:i]
			return res, &txnError{op: "end of DATA", err: err}
		}
	}
	s.dirty = false
	return res, nil
}

// rcptOp names a RCPT TO command line in errors.
func rcptOp(line string) string {
	addr := line[strings.IndexByte(line, '<')+1 : strings.IndexByte(line, '>')]
	return "RCPT TO <" + addr + ">"
}

// runChunk runs a transaction of one recipient over LMTP with BDAT (RFC
// 3030): MAIL, RCPT, "BDAT n LAST" and the message go in one write and
// their three replies come back together, one round trip where DATA takes
// two (it waits for 354 before the message). With one recipient the BDAT
// gets exactly one reply whatever happened to MAIL and RCPT: the server
// reads the chunk even when it refuses it (RFC 3030 section 2), so the
// session stays in step. The message goes as it is, without dot-stuffing.
// A broken connection before the reply to MAIL is a *txnError for "MAIL
// FROM", after which the caller may send the message again on a new
// session: a server that took the message and closed the connection
// without a reply to MAIL gets it twice, never zero times.
func (s *clientSession) runChunk(t *txn) (res txnResult, err error) {
	s.conn.SetDeadline(time.Now().Add(s.endTimeout))
	defer s.conn.SetDeadline(time.Time{})
	s.dirty = true
	res.rcpt = []error{errNotSent}
	s.send(t.mail)
	s.send(t.rcpts[0])
	s.send("BDAT " + strconv.Itoa(len(t.header)+len(t.body)) + " LAST")
	s.text.W.WriteString(t.header)
	s.text.W.Write(t.body)
	if err := s.flush("MAIL FROM"); err != nil {
		return res, err
	}
	if err := s.reply("MAIL FROM", 250, &res.mail); err != nil {
		return res, err
	}
	if err := s.reply(rcptOp(t.rcpts[0]), 250, &res.rcpt[0]); err != nil {
		return res, err
	}
	if res.mail != nil || res.rcpt[0] != nil {
		// The chunk's refusal; the session needs RSET (dirty).
		var ignored error
		if err := s.reply("end of DATA", 250, &ignored); err != nil {
			return res, err
		}
		return res, nil
	}
	text, err := s.read(250)
	var se *smtp.SMTPError
	switch {
	case err == nil:
		res.final, res.finalText = []error{nil}, []string{text}
	case errors.As(err, &se) && se.Code != 421:
		res.final, res.finalText = []error{err}, []string{""}
		return res, nil
	default:
		res.final, res.finalText = []error{}, []string{}
		return res, &txnError{op: "end of DATA", err: err}
	}
	s.dirty = false
	return res, nil
}

// mailCommand formats MAIL FROM with the parameters the server offers:
// BODY=8BITMIME, SIZE, SMTPUTF8 (utf8, which the caller checked is
// offered).
func mailCommand(cl *smtp.Client, from string, size int, utf8 bool) string {
	var b strings.Builder
	b.Grow(len(from) + 64)
	b.WriteString("MAIL FROM:<")
	b.WriteString(from)
	b.WriteString(">")
	if ok, _ := cl.Extension("8BITMIME"); ok {
		b.WriteString(" BODY=8BITMIME")
	}
	if ok, _ := cl.Extension("SIZE"); ok && size > 0 {
		fmt.Fprintf(&b, " SIZE=%d", size)
	}
	if utf8 {
		b.WriteString(" SMTPUTF8")
	}
	return b.String()
}

// rcptCommand formats RCPT TO; params (such as " NOTIFY=NEVER") are
// appended as given.
func rcptCommand(to, params string) string {
	return "RCPT TO:<" + to + ">" + params
}

// orcptParam is the ORCPT parameter (RFC 3461) for orcpt: xtext for an
// ASCII address, RFC 6533's utf-8-addr forms otherwise.
func orcptParam(orcpt string, smtputf8 bool) string {
	var b strings.Builder
	b.WriteString(" ORCPT=")
	if isASCII(orcpt) {
		b.WriteString("rfc822;")
	} else {
		b.WriteString("utf-8;")
	}
	for _, r := range orcpt {
		switch {
		case r >= '!' && r <= '~' && r != '+' && r != '=':
			b.WriteRune(r)
		case isASCII(orcpt):
			fmt.Fprintf(&b, "+%02X", r)
		case r >= 0x80 && smtputf8:
			b.WriteRune(r)
		default:
			fmt.Fprintf(&b, `\x{%X}`, r)
		}
	}
	return b.String()
}
