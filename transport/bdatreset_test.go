package transport

import (
	"strings"
	"testing"
)

// TestChunkedAbort: a chunked message (BDAT) aborted before its LAST
// chunk (RSET, LHLO, a chunk over the size limit) ends the connection
// after the reply to what aborted it. go-smtp hands the aborted message's
// read error to whichever chunked message comes next on the session: a
// pipelined "RSET, MAIL, RCPT, BDAT LAST" had its message delivered and
// answered 451 "Error reading message: smtp: message transmission
// aborted", so the client sent it again. A pipelined next transaction is
// refused with 421 instead, and nothing of it is delivered; on a new
// connection it goes through. The same through SMTP (the submission
// listener).
func TestChunkedAbort(t *testing.T) {
	for _, smtp := range []bool{false, true} {
		hello := "LHLO"
		if smtp {
			hello = "EHLO"
		}
		t.Run(hello, func(t *testing.T) { testChunkedAbort(t, smtp, hello) })
	}
}

func testChunkedAbort(t *testing.T, smtp bool, hello string) {
	next := "MAIL FROM:<c@d>\r\nRCPT TO:<x@y>\r\nBDAT 15 LAST\r\nSubject: b\r\n\r\nx"
	tests := []struct {
		name  string
		abort string // sent after the first chunk, with the next transaction
		want  int    // its reply
	}{
		{"RSET", "RSET\r\n", 250},
		{"hello", hello + " again\r\n", 250},
		{"over SIZE", "BDAT 100\r\n" + strings.Repeat("y", 100), 552},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rec := &recorder{}
			_, addr := startServer(t, Config{Deliverer: rec, MaxMessageBytes: 64, SMTP: smtp})
			lc := dialLine(t, "tcp", addr)
			lc.expect(220)
			lc.cmd(hello+" c", 250)
			lc.cmd("MAIL FROM:<a@b>", 250)
			lc.cmd("RCPT TO:<x@y>", 250)
			lc.send("BDAT 12\r\nSubject: a\r\n")
			lc.expect(250)
			lc.send(tt.abort + next)
			lc.expect(tt.want)
			if code, text := lc.reply(); code != 421 && code != 0 {
				t.Fatalf("MAIL after the aborted chunks: %d %q, want 421 or the end of the connection", code, text)
			}
			for {
				if code, _ := lc.reply(); code == 0 {
					break // the connection ends
				}
			}
			rec.mu.Lock()
			n := len(rec.msgs)
			rec.mu.Unlock()
			if n != 0 {
				t.Fatalf("%d messages delivered on the aborted connection", n)
			}

			lc = dialLine(t, "tcp", addr)
			lc.expect(220)
			lc.cmd(hello+" c", 250)
			for i := range 2 {
				lc.send(next)
				lc.expect(250)
				lc.expect(250)
				lc.expect(250)
				if _, msg := rec.last(t); string(msg) != "Subject: b\r\n\r\nx" {
					t.Errorf("message %d: delivered %q", i, msg)
				}
			}
		})
	}
}

// TestChunkedThenNext: a chunked message that ends normally (several
// chunks, then LAST) leaves the session open for the next transaction.
func TestChunkedThenNext(t *testing.T) {
	rec := &recorder{}
	_, addr := startServer(t, Config{Deliverer: rec})
	lc := dialLine(t, "tcp", addr)
	lc.expect(220)
	lc.cmd("LHLO c", 250)
	for i := range 3 {
		lc.cmd("MAIL FROM:<a@b>", 250)
		lc.cmd("RCPT TO:<x@y>", 250)
		lc.send("BDAT 12\r\nSubject: a\r\n")
		lc.expect(250)
		lc.send("BDAT 0\r\n")
		lc.expect(250)
		lc.send("BDAT 3 LAST\r\n\r\nx")
		if text := lc.expect(250); !strings.Contains(text, "<x@y>") {
			t.Errorf("message %d: reply %q", i, text)
		}
	}
	lc.cmd("RSET", 250)
	lc.cmd("NOOP", 250)
	if _, msg := rec.last(t); string(msg) != "Subject: a\r\n\r\nx" {
		t.Errorf("delivered %q", msg)
	}
}
