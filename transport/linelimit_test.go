package transport

import (
	"fmt"
	"strings"
	"testing"
)

// TestLongLines: a message line over 2,000 octets is accepted the same way
// through DATA and BDAT (it used to get 451 through DATA, then 500 and a
// dropped connection, and the client retried it forever); the session goes
// on; a command line over the limit still ends the session with a 500.
func TestLongLines(t *testing.T) {
	long := strings.Repeat("x", 5000)
	body := "Subject: long\r\n\r\n" + long + "\r\n.starts with a dot\r\n" + long + "\r\n"
	for _, how := range []string{"DATA", "BDAT"} {
		t.Run(how, func(t *testing.T) {
			rec := &recorder{}
			_, addr := startServer(t, Config{Deliverer: rec})
			lc := dialLine(t, "tcp", addr)
			lc.expect(220)
			lc.cmd("LHLO c", 250)
			for i := range 2 { // twice: the session stays in step
				lc.cmd("MAIL FROM:<a@example.org>", 250)
				lc.cmd("RCPT TO:<b@example.com>", 250)
				if how == "DATA" {
					lc.cmd("DATA", 354)
					lc.send(strings.ReplaceAll(body, "\r\n.", "\r\n..") + ".\r\n")
				} else {
					lc.send(fmt.Sprintf("BDAT %d LAST\r\n%s", len(body), body))
				}
				lc.expect(250)
				if _, msg := rec.last(t); string(msg) != body {
					t.Fatalf("message %d: got %d octets, want the %d sent", i, len(msg), len(body))
				}
			}
			lc.cmd("NOOP", 250)
		})
	}
	t.Run("command line", func(t *testing.T) {
		_, addr := startServer(t, Config{Deliverer: &recorder{}})
		lc := dialLine(t, "tcp", addr)
		lc.expect(220)
		lc.cmd("LHLO c", 250)
		lc.cmd("NOOP "+strings.Repeat("y", 1900), 250)
		if text := lc.cmd("NOOP "+long, 500); !strings.Contains(text, "Too long line") {
			t.Errorf("reply %q", text)
		}
	})
}
