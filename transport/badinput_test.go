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
