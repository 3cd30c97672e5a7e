package transport

import (
	"strings"
	"testing"
)

// TestChunkedAbort: a chunked message (BDAT) aborted before its LAST
// chunk (RSET, LHLO, a chunk over the size limit) is dropped, and a
// transaction pipelined after what aborted it goes through on the same
// connection. (go-smtp's server handed the aborted message's read error to
// the next chunked message: it was delivered and answered 451, so the
// client sent it again.) The same through SMTP (the submission listener).
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
			for i := range 3 {
				if code, text := lc.reply(); code != 250 {
					t.Fatalf("reply %d of the next transaction: %d %q", i, code, text)
				}
			}
			rec.mu.Lock()
			n := len(rec.msgs)
			rec.mu.Unlock()
			if n != 1 {
				t.Fatalf("%d messages delivered, want the next one only", n)
			}
			if _, msg := rec.last(t); string(msg) != "Subject: b\r\n\r\nx" {
				t.Errorf("delivered %q", msg)
			}
			lc.cmd("NOOP", 250)
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

// TestChunkedBudget: a session that ends between the chunks of a message
// (QUIT, or the client goes) gives the message's memory budget back.
func TestChunkedBudget(t *testing.T) {
	for _, end := range []string{"QUIT\r\n", ""} {
		srv, addr := startServer(t, Config{Deliverer: &recorder{}})
		lc := dialLine(t, "tcp", addr)
		lc.expect(220)
		lc.cmd("LHLO c", 250)
		lc.cmd("MAIL FROM:<a@b> SIZE=5000", 250)
		lc.cmd("RCPT TO:<x@y>", 250)
		lc.send("BDAT 12\r\nSubject: a\r\n")
		lc.expect(250)
		if got := srv.Stats().InflightBytes; got == 0 {
			t.Fatal("nothing reserved for the chunked message")
		}
		if end != "" {
			lc.cmd("QUIT", 221)
		}
		lc.c.Close()
		waitFor(t, func() bool { s := srv.Stats(); return s.Active == 0 && s.InflightBytes == 0 })
	}
}

// TestChunkedLastOverSize: a LAST chunk that takes the message over the
// size limit is answered once per recipient in LMTP (a pipelining client
// reads that many replies), once in SMTP.
func TestChunkedLastOverSize(t *testing.T) {
	for _, smtp := range []bool{false, true} {
		rec := &recorder{}
		_, addr := startServer(t, Config{Deliverer: rec, MaxMessageBytes: 64, SMTP: smtp})
		lc := dialLine(t, "tcp", addr)
		lc.expect(220)
		hello, replies := "LHLO", 2
		if smtp {
			hello, replies = "EHLO", 1
		}
		lc.cmd(hello+" c", 250)
		lc.send("MAIL FROM:<a@b>\r\nRCPT TO:<x@y>\r\nRCPT TO:<z@y>\r\nBDAT 100 LAST\r\n" + strings.Repeat("y", 100) + "NOOP\r\n")
		lc.expect(250)
		lc.expect(250)
		lc.expect(250)
		for range replies {
			lc.expect(552)
		}
		lc.expect(250) // NOOP
		rec.mu.Lock()
		n := len(rec.msgs)
		rec.mu.Unlock()
		if n != 0 {
			t.Errorf("smtp %v: %d messages delivered", smtp, n)
		}
	}
}
