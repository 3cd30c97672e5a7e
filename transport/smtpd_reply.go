package transport

import (
	"errors"
	"strconv"
	"strings"

	"github.com/emersion/go-smtp"
)

// noEnhanced marks a reply without an enhanced status code (the greeting,
// LHLO's, 354).
var noEnhanced = [3]int{-1, -1, -1}

// reply writes a reply; a text with several lines ("\n" between them) is
// a multi-line reply. An enhanced code of zeros is the class's X.0.0
// (RFC 2034 wants one in every 2xx, 4xx and 5xx reply). Replies are held
// by the connection until its next read (see conn.Write).
func (p *protocol) reply(code int, ec [3]int, text string) {
	p.replyTo("", code, ec, text)
}

// replyTo writes a reply about the recipient rcpt ("<rcpt> text") when
// rcpt is not "".
func (p *protocol) replyTo(rcpt string, code int, ec [3]int, text string) {
	if ec == [3]int{} {
		switch code / 100 {
		case 2, 4, 5:
			ec = [3]int{code / 100, 0, 0}
		default:
			ec = noEnhanced
		}
	}
	b := p.out[:0]
	for {
		line, rest, more := strings.Cut(text, "\n")
		b = strconv.AppendInt(b, int64(code), 10)
		if more {
			b = append(b, '-')
		} else {
			b = append(b, ' ')
			if ec != noEnhanced {
				b = strconv.AppendInt(b, int64(ec[0]), 10)
				b = append(b, '.')
				b = strconv.AppendInt(b, int64(ec[1]), 10)
				b = append(b, '.')
				b = strconv.AppendInt(b, int64(ec[2]), 10)
				b = append(b, ' ')
			}
			if rcpt != "" {
				b = append(b, '<')
				b = append(b, rcpt...)
				b = append(b, "> "...)
			}
		}
		b = append(b, strings.TrimRight(line, "\r")...)
		b = append(b, '\r', '\n')
		if !more {
			break
		}
		text = rest
	}
	p.out = b
	if _, err := p.c.Write(b); err != nil {
		p.quit = true
	}
}

// replyErr answers with err: an *smtp.SMTPError as it is, anything else
// as a temporary failure.
func (p *protocol) replyErr(err error) { p.replyErrTo("", err) }

func (p *protocol) replyErrTo(rcpt string, err error) {
	var se *smtp.SMTPError
	if errors.As(err, &se) {
		p.replyTo(rcpt, se.Code, se.EnhancedCode, se.Message)
		return
	}
	p.replyTo(rcpt, 451, [3]int{4, 3, 0}, err.Error())
}

// replyStatus answers a recipient's delivery status.
func (p *protocol) replyStatus(rcpt string, st Status) {
	p.replyErrTo(rcpt, statusErr(st))
}

// helloVerb is the greeting command the server expects.
func (p *protocol) helloVerb() string {
	if p.srv.cfg.SMTP {
		return "EHLO"
	}
	return "LHLO"
}
