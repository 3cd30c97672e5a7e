package transport

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"net"
	"runtime/debug"
	"strconv"
	"strings"
	"time"
)

// The server side of the protocol is this package's own; go-smtp is used
// for the client side only (Sender, Forwarder). go-smtp's server read the
// message content one byte at a time, ran every LMTP DATA in a goroutine
// of its own, applied its line limit inside DATA, and handed a chunked
// message's read error to the next chunked message of the session; owning
// the loop removes the work-arounds those needed and about a fifth of the
// CPU per message on a reused connection (see make bench-peers).

// maxCommandLine bounds a command line (RFC 5321 asks for 512 octets; 2000
// leaves room for clients that send long parameters). A longer line ends
// the session with "500 5.4.0". The message content is not limited by
// line (real mail has longer lines than RFC 5322's 998, such as HTML on
// one line); MaxMessageBytes bounds it.
const maxCommandLine = 2000

// maxErrors is the number of protocol errors (unknown commands, bad
// syntax) after which a session is ended.
const maxErrors = 3

// serve accepts connections on l and runs the protocol on each in a
// goroutine of its own, until l fails.
func (s *Server) serve(l net.Listener) error {
	var delay time.Duration
	for {
		c, err := l.Accept()
		if err != nil {
			var te interface{ Temporary() bool } // EMFILE, ECONNABORTED...
			if errors.As(err, &te) && te.Temporary() && !s.draining.Load() {
				delay = min(max(2*delay, 5*time.Millisecond), time.Second)
				s.log.Warn("lmtp: accept failed; retrying", "err", err, "in", delay)
				time.Sleep(delay)
				continue
			}
			return err
		}
		delay = 0

		go (&protocol{srv: s, c: c.(*conn)}).run()
	}
}

// protocol runs LMTP (or SMTP) on one connection.
type protocol struct {
	srv   *Server
	c     *conn
	r     *bufio.Reader
	sess  *session
	hello string // the domain of the latest LHLO/EHLO/HELO, "" before one
	errs  int    // protocol errors so far
	quit  bool   // the session is over
	out   []byte // scratch for formatting replies

	msg *message // a chunked message (BDAT) in progress, nil if none
}

func (p *protocol) run() {
	defer p.c.Close()
	p.r = p.srv.readers.Get().(*bufio.Reader)
	p.r.Reset(p.c)
	defer func() {
		p.r.Reset(nil)
		p.srv.readers.Put(p.r)
	}()
	defer func() {
		if p.sess != nil {
			p.reset() // a chunked message's budget too
		}
	}()
	kind := "LMTP"
	if p.srv.cfg.SMTP {
		kind = "ESMTP"
	}
	p.reply(220, noEnhanced, p.srv.cfg.Hostname+" "+kind+" Service Ready")
	for !p.quit {
		p.c.SetReadDeadline(time.Now().Add(p.srv.cfg.ReadTimeout))
		line, err := p.readLine()
		if err != nil {
			p.readFailed(err)
			return
		}
		p.command(line)
	}
}

// readFailed answers a failed command read where an answer can still go
// out.
func (p *protocol) readFailed(err error) {
	var ne net.Error
	switch {
	case errors.Is(err, errLineTooLong):
		p.reply(500, [3]int{5, 4, 0}, "Too long line, closing connection")
	case errors.Is(err, io.EOF), errors.Is(err, net.ErrClosed):
	case errors.As(err, &ne) && ne.Timeout():
		p.reply(421, [3]int{4, 4, 2}, "Idle timeout, closing connection")
	default:
		p.reply(421, [3]int{4, 4, 0}, "Connection error, closing connection")
	}
}

var errLineTooLong = errors.New("command line too long")

// readLine reads a command line without its line ending (CRLF, or a bare
// LF as most servers accept).
func (p *protocol) readLine() (string, error) {
	line, err := p.r.ReadSlice('\n')
	if len(line) > maxCommandLine || errors.Is(err, bufio.ErrBufferFull) {
		return "", errLineTooLong
	}
	if err != nil {
		if err == io.EOF && len(line) > 0 {
			err = io.ErrUnexpectedEOF
		}
		return "", err
	}
	line = line[:len(line)-1]
	if n := len(line); n > 0 && line[n-1] == '\r' {
		line = line[:n-1]
	}
	return string(line), nil
}

// command runs one command line.
func (p *protocol) command(line string) {
	defer func() {
		if v := recover(); v != nil {
			p.srv.log.Error("lmtp: panic serving a command", "panic", fmt.Sprint(v),
				"client", addrString(p.c.RemoteAddr()), "stack", string(debug.Stack()))
			p.reply(421, [3]int{4, 0, 0}, "Internal server error")
			p.quit = true
		}
	}()
	if p.sess == nil {
		// Made at the first command: a PROXY header has been read by
		// then, and the client address is the one it carried.
		p.sess = newServerSession(p.srv, p.c)
	}
	verb, arg, _ := strings.Cut(line, " ")
	arg = strings.TrimSpace(arg)
	switch strings.ToUpper(verb) {
	case "LHLO":
		if !p.srv.cfg.SMTP {
			p.greet(arg, true)
			return
		}
		p.reply(500, [3]int{5, 5, 1}, "This is not an LMTP server, use EHLO")
	case "EHLO", "HELO":
		if p.srv.cfg.SMTP {
			p.greet(arg, strings.EqualFold(verb, "EHLO"))
			return
		}
		p.reply(500, [3]int{5, 5, 1}, "This is an LMTP server, use LHLO")
	case "MAIL":
		p.mail(arg)
	case "RCPT":
		p.rcpt(arg)
	case "DATA":
		p.data(arg)
	case "BDAT":
		p.bdat(arg)
	case "RSET":
		p.reset()
		p.reply(250, [3]int{2, 0, 0}, "Ok")
	case "NOOP":
		p.reply(250, [3]int{2, 0, 0}, "Ok")
	case "VRFY":
		p.reply(252, [3]int{2, 5, 0}, "Cannot VRFY user, but will accept message")
	case "QUIT":
		p.reply(221, [3]int{2, 0, 0}, "Bye")
		p.quit = true
	case "STARTTLS", "AUTH", "SEND", "SOML", "SAML", "EXPN", "HELP", "TURN", "ETRN", "XCLIENT", "XFORWARD":
		p.reply(502, [3]int{5, 5, 1}, strings.ToUpper(verb)+" command not implemented")
	case "":
		p.protocolError(500, [3]int{5, 5, 2}, "Error: bad syntax")
	default:
		p.protocolError(500, [3]int{5, 5, 2}, "Error: command not recognized")
	}
}

// protocolError answers a command that is no command and ends the
// session after maxErrors of them.
func (p *protocol) protocolError(code int, ec [3]int, text string) {
	p.reply(code, ec, text)
	p.errs++
	if p.errs > maxErrors {
		p.reply(421, [3]int{4, 7, 0}, "Too many errors, closing connection")
		p.quit = true
	}
}

// greet answers LHLO, EHLO or HELO; a later one resets the transaction
// as RSET does (RFC 5321 section 4.1.4).
func (p *protocol) greet(arg string, extended bool) {
	domain, _, _ := strings.Cut(arg, " ")
	if domain == "" {
		p.reply(501, [3]int{5, 5, 2}, "Domain or address argument required")
		return
	}
	p.reset()
	p.hello = domain
	greeting := p.srv.cfg.Hostname + " Hello " + domain
	if !extended {
		p.reply(250, noEnhanced, greeting)
		return
	}
	p.reply(250, noEnhanced, greeting+"\nPIPELINING\n8BITMIME\nENHANCEDSTATUSCODES\nCHUNKING\nSMTPUTF8\nDSN"+
		"\nSIZE "+strconv.FormatInt(p.srv.cfg.MaxMessageBytes, 10)+
		"\nLIMITS RCPTMAX="+strconv.Itoa(p.srv.cfg.MaxRecipients))
}

// reset ends the transaction in progress, if any.
func (p *protocol) reset() {
	if p.msg != nil {
		p.msg.release()
		p.msg = nil
	}
	p.sess.reset() // nothing when no transaction is open
}

func (p *protocol) mail(arg string) {
	switch {
	case p.hello == "":
		p.reply(503, [3]int{5, 5, 1}, "Send "+p.helloVerb()+" first")
		return
	case p.sess.env != nil:
		p.reply(503, [3]int{5, 5, 1}, "Nested MAIL command")
		return
	}
	from, params, ok := pathArg(arg, "FROM:", true)
	if !ok {
		p.reply(501, [3]int{5, 5, 2}, "Syntax: MAIL FROM:<address>")
		return
	}
	mp, err := parseMailParams(params, p.srv.cfg.MaxMessageBytes)
	if err == nil {
		err = p.sess.mail(from, p.hello, mp)
	}
	if err != nil {
		p.replyErr(err)
		return
	}
	p.reply(250, [3]int{2, 1, 0}, "Ok")
}

func (p *protocol) rcpt(arg string) {
	switch {
	case p.sess.env == nil:
		p.reply(503, [3]int{5, 5, 1}, "Need MAIL command")
		return
	case p.msg != nil:
		p.reply(503, [3]int{5, 5, 1}, "RCPT not allowed during a chunked message")
		return
	}
	to, params, ok := pathArg(arg, "TO:", false)
	if !ok {
		p.reply(501, [3]int{5, 5, 2}, "Syntax: RCPT TO:<address>")
		return
	}
	if len(p.sess.env.Recipients) >= p.srv.cfg.MaxRecipients {
		p.reply(452, [3]int{4, 5, 3}, "Too many recipients (at most "+strconv.Itoa(p.srv.cfg.MaxRecipients)+")")
		return
	}
	orcpt, err := parseRcptParams(params)
	if err == nil {
		err = p.sess.rcpt(to, orcpt)
	}
	if err != nil {
		p.replyErr(err)
		return
	}
	p.reply(250, [3]int{2, 1, 5}, "Ok")
}

// ready checks that a transaction can take its message.
func (p *protocol) ready() bool {
	if p.sess.env == nil || len(p.sess.env.Recipients) == 0 {
		p.reply(503, [3]int{5, 5, 1}, "Need RCPT command")
		return false
	}
	return true
}

func (p *protocol) data(arg string) {
	switch {
	case arg != "":
		p.reply(501, [3]int{5, 5, 4}, "DATA takes no arguments")
		return
	case p.msg != nil:
		p.reply(503, [3]int{5, 5, 1}, "DATA not allowed during a chunked message")
		return
	case !p.ready():
		return
	}
	p.reply(354, noEnhanced, "End data with <CR><LF>.<CR><LF>")
	m := p.newMessage()
	d := &dotReader{r: p.r, left: p.srv.cfg.MaxMessageBytes}
	err := m.readFrom(d)
	d.discard() // the rest of a message refused part way
	p.answer(m, err)
}

func (p *protocol) bdat(arg string) {
	f := strings.Fields(arg)
	if len(f) == 0 || len(f) > 2 || len(f) == 2 && !strings.EqualFold(f[1], "LAST") {
		p.reply(501, [3]int{5, 5, 4}, "Syntax: BDAT size [LAST]")
		return
	}
	size, err := strconv.ParseUint(f[0], 10, 32)
	if err != nil {
		p.reply(501, [3]int{5, 5, 4}, "Syntax: BDAT size [LAST]")
		return
	}
	last := len(f) == 2
	// The chunk follows the command whatever the answer.
	chunk := &chunkReader{r: p.r, left: int64(size)}
	if !p.ready() {
		chunk.discard()
		return
	}
	if p.msg == nil {
		p.msg = p.newMessage()
	}
	if p.msg.received+int64(size) > p.srv.cfg.MaxMessageBytes {
		err = errTooLarge
	} else {
		err = p.msg.readFrom(chunk)
	}
	chunk.discard()
	if last { // answered per recipient in LMTP, error or not
		m := p.msg
		p.msg = nil
		p.answer(m, err)
		return
	}
	if err != nil {
		p.replyErr(err)
		p.reset()
		return
	}
	p.reply(250, [3]int{2, 0, 0}, strconv.FormatUint(size, 10)+" octets received")
}

// answer delivers a message read in full (err == nil) and answers: per
// recipient in LMTP, once in SMTP (success only when every recipient
// succeeded). A message that could not be read is answered err for every
// recipient. The transaction ends.
func (p *protocol) answer(m *message, err error) {
	defer p.reset()
	defer m.release()
	env := p.sess.env
	var st []Status
	if err == nil {
		st = p.sess.deliver(m.buf)
	}
	if p.srv.cfg.SMTP {
		if err == nil {
			for i := range st {
				if !st[i].OK() {
					err = statusErr(st[i])
					break
				}
			}
		}
		if err != nil {
			p.replyErr(err)
			return
		}
		p.reply(250, [3]int{2, 0, 0}, "Ok")
		return
	}
	for i, r := range env.Recipients {
		if err != nil {
			p.replyErrTo(r.Addr, err)
			continue
		}
		p.replyStatus(r.Addr, st[i])
	}
}
