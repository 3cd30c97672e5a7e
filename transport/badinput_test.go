package transport

import (
	"fmt"
	"strings"
	"testing"
)

// TestBadAddressBytes: a NUL, another control character or invalid UTF-8
// in an address is refused with a permanent 501, not deferred, and the
// session goes on.
func TestBadAddressBytes(t *testing.T) {
	tests := []struct {
		name, mail, rcpt string
		code             string // enhanced code of the 501
	}{
		{"NUL in MAIL FROM", "a\x00b@example.org", "", "5.1.7"},
		{"ESC in MAIL FROM", "a\x1bb@example.org", "", "5.1.7"},
		{"invalid UTF-8 in MAIL FROM", "a\xffb@example.org", "", "5.1.7"},
		{"NUL in RCPT TO", "a@example.org", "b\x00@example.com", "5.1.3"},
		{"DEL in RCPT TO", "a@example.org", "b\x7f@example.com", "5.1.3"},
		{"invalid UTF-8 in RCPT TO", "a@example.org", "b\xc3@example.com", "5.1.3"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rec := &recorder{}
			_, addr := startServer(t, Config{Deliverer: rec})
			lc := dialLine(t, "tcp", addr)
			lc.expect(220)
			lc.cmd("LHLO c", 250)
			var text string
			if tt.rcpt == "" {
				text = lc.cmd("MAIL FROM:<"+tt.mail+">", 501)
			} else {
				lc.cmd("MAIL FROM:<"+tt.mail+">", 250)
				text = lc.cmd("RCPT TO:<"+tt.rcpt+">", 501)
				lc.cmd("RSET", 250)
			}
			if !strings.HasPrefix(text, tt.code+" ") {
				t.Errorf("reply %q, want enhanced code %s", text, tt.code)
			}
			lc.cmd("MAIL FROM:<a@example.org>", 250)
			lc.cmd("RCPT TO:<b@example.com>", 250)
			lc.cmd("DATA", 354)
			lc.send("x\r\n.\r\n")
			lc.expect(250)
		})
	}
}

// TestEnvelopeKeepsItsForm: go-smtp unquotes a quoted local part; the
// envelope the deliverer sees has it quoted again, and an SMTPUTF8
// client's UTF-8 local part stays as it was sent (RFC 6531 atext), so a
// script's envelope test and the reply's RCPT TO see the client's address.
func TestEnvelopeKeepsItsForm(t *testing.T) {
	for _, tt := range []struct{ mail, params, rcpt, wantFrom, wantTo string }{
		{`"alice smith"@example.org`, "", "bob@example.com", `"alice smith"@example.org`, "bob@example.com"},
		{"josé@example.org", " SMTPUTF8", "zoë@example.com", "josé@example.org", "zoë@example.com"},
		{"a@example.org", "", `"b..c"@example.com`, "a@example.org", `"b..c"@example.com`},
	} {
		rec := &recorder{}
		_, addr := startServer(t, Config{Deliverer: rec})
		lc := dialLine(t, "tcp", addr)
		lc.expect(220)
		lc.cmd("LHLO c", 250)
		from := tt.mail
		lc.cmd("MAIL FROM:<"+from+">"+tt.params, 250)
		lc.cmd("RCPT TO:<"+tt.rcpt+">", 250)
		lc.cmd("DATA", 354)
		lc.send("x\r\n.\r\n")
		lc.expect(250)
		rec.mu.Lock()
		env := rec.envs[0]
		rec.mu.Unlock()
		if env.From != tt.wantFrom || env.Recipients[0].Addr != tt.wantTo {
			t.Errorf("MAIL FROM:<%s> RCPT TO:<%s>: envelope %q -> %q, want %q -> %q", from, tt.rcpt, env.From, env.Recipients[0].Addr, tt.wantFrom, tt.wantTo)
		}
	}
}

// TestUndeclaredUTF8: a non-ASCII address in a transaction whose MAIL
// FROM did not declare SMTPUTF8 is refused with 553 5.6.7 (RFC 6531),
// through LMTP and SMTP (the submission listener); the transaction's
// other recipients are delivered. It used to be accepted, and a relay
// without SMTPUTF8 then dropped the message for every recipient.
func TestUndeclaredUTF8(t *testing.T) {
	tests := []struct {
		name, mail, params, rcpt string
		mailCode, rcptCode       int
	}{
		{"sender", "josé@example.org", "", "bob@example.com", 553, 0},
		{"recipient", "a@example.org", "", "zoë@example.com", 250, 553},
		{"declared", "a@example.org", " SMTPUTF8", "zoë@example.com", 250, 250},
		{"ASCII", "a@example.org", "", "bob@example.com", 250, 250},
	}
	for _, smtp := range []bool{false, true} {
		for _, tt := range tests {
			t.Run(fmt.Sprintf("%s/smtp=%v", tt.name, smtp), func(t *testing.T) {
				rec := &recorder{}
				_, addr := startServer(t, Config{Deliverer: rec, SMTP: smtp})
				lc := dialLine(t, "tcp", addr)
				lc.expect(220)
				if smtp {
					lc.cmd("EHLO c", 250)
				} else {
					lc.cmd("LHLO c", 250)
				}
				if text := lc.cmd("MAIL FROM:<"+tt.mail+">"+tt.params, tt.mailCode); tt.mailCode == 553 {
					if text != "5.6.7 Must declare SMTPUTF8 to send unicode address" {
						t.Errorf("MAIL reply %q", text)
					}
					return
				}
				lc.cmd("RCPT TO:<other@example.com>", 250)
				if text := lc.cmd("RCPT TO:<"+tt.rcpt+">", tt.rcptCode); tt.rcptCode == 553 && !strings.HasPrefix(text, "5.6.7 ") {
					t.Errorf("RCPT reply %q", text)
				}
				lc.cmd("DATA", 354)
				lc.send("x\r\n.\r\n")
				want := 2
				if tt.rcptCode == 553 {
					want = 1
				}
				if smtp {
					lc.expect(250)
				} else {
					for range want {
						lc.expect(250)
					}
				}
				if env, _ := rec.last(t); len(env.Recipients) != want {
					t.Errorf("%d recipients delivered, want %d", len(env.Recipients), want)
				}
			})
		}
	}
}
