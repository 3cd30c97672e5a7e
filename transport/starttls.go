package transport

import (
	"bufio"
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"net"
	"net/textproto"
	"strings"
	"time"

	"github.com/emersion/go-smtp"
)

// startTLS runs the start of the session itself — greeting, EHLO,
// STARTTLS — because go-smtp's client cannot upgrade an open session only
// when STARTTLS is offered. It returns a connection for go-smtp's client
// that replays the greeting, so the client starts with its own EHLO (over
// TLS when it was negotiated).
func (s *Sender) startTLS(ctx context.Context, raw net.Conn) (net.Conn, bool, error) {
	fail := func(op string, err error) (net.Conn, bool, error) {
		return nil, false, replyError(s.cfg.Addr, op, err, false)
	}
	raw.SetDeadline(time.Now().Add(s.cfg.CommandTimeout))
	defer raw.SetDeadline(time.Time{})
	br := bufio.NewReader(raw)
	tp := textproto.NewReader(br)
	readReply := func(op string, want int) (string, error) {
		code, msg, err := tp.ReadResponse(want)
		var te *textproto.Error
		if errors.As(err, &te) {
			ec, text := parseReplyText(te.Msg)
			return "", &smtp.SMTPError{Code: code, EnhancedCode: smtp.EnhancedCode(ec), Message: text}
		}
		return msg, err
	}
	greeting, err := readReply("greeting", 220)
	if err != nil {
		return fail("greeting", err)
	}
	replay := func(c net.Conn, r io.Reader) net.Conn {
		line, _, _ := strings.Cut(greeting, "\n")
		return &replayConn{Conn: c, r: io.MultiReader(strings.NewReader("220 "+line+"\r\n"), r)}
	}
	if _, err := fmt.Fprintf(raw, "EHLO %s\r\n", s.cfg.HeloName); err != nil {
		return fail("EHLO", err)
	}
	ehlo, err := readReply("EHLO", 250)
	offered := false
	if err == nil {
		for _, l := range strings.Split(ehlo, "\n")[1:] {
			if strings.EqualFold(strings.TrimSpace(l), "STARTTLS") {
				offered = true
			}
		}
	} else if !connUsable(err) {
		return fail("EHLO", err)
	}
	if !offered {
		if s.cfg.TLS == TLSStartTLS {
			return fail("STARTTLS", errors.New("relay does not offer STARTTLS"))
		}
		return replay(raw, br), false, nil
	}
	if _, err := io.WriteString(raw, "STARTTLS\r\n"); err != nil {
		return fail("STARTTLS", err)
	}
	if _, err := readReply("STARTTLS", 220); err != nil {
		if s.cfg.TLS == TLSOpportunistic && connUsable(err) {
			// Refused: the session goes on in plain text, as with Postfix's
			// "may" level.
			return replay(raw, br), false, nil
		}
		return fail("STARTTLS", err)
	}
	tc := tls.Client(&replayConn{Conn: raw, r: br}, s.tls)
	hctx, cancel := context.WithTimeout(ctx, s.cfg.DialTimeout)
	err = tc.HandshakeContext(hctx)
	cancel()
	if err != nil {
		return fail("TLS", err)
	}
	return replay(tc, tc), true, nil
}

// replayConn reads from r instead of the connection itself.
type replayConn struct {
	net.Conn
	r io.Reader
}

func (c *replayConn) Read(b []byte) (int, error) { return c.r.Read(b) }
