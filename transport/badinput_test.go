package transport

import (
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
