package transport

import (
	"net"
	"testing"
	"time"
)

// writeRecorder records each Write on the underlying connection.
type writeRecorder struct {
	net.Conn
	writes []string
	input  []string
}

func (w *writeRecorder) Write(b []byte) (int, error) {
	w.writes = append(w.writes, string(b))
	return len(b), nil
}

// readRecorder is a connection whose reads return queued input.
func (w *writeRecorder) Read(b []byte) (int, error) {
	if len(w.input) == 0 {
		return 0, net.ErrClosed
	}
	n := copy(b, w.input[0])
	w.input = w.input[1:]
	return n, nil
}

// TestConnWriteHoldsRepliesUntilRead: replies written while the protocol
// still has buffered commands (it calls Read only when it has none) reach the
// socket in one write, just before the next read; Close flushes the rest.
func TestConnWriteHoldsRepliesUntilRead(t *testing.T) {
	rec := &writeRecorder{input: []string{"MAIL FROM:<a@b>\r\n"}}
	c := &conn{Conn: rec, srv: &Server{conns: map[*conn]struct{}{}}}
	for _, l := range []string{"250-mx.example.com\r\n", "250-PIPELINING\r\n", "250 SIZE 1024\r\n", "250 2.1.0 Ok\r\n"} {
		if n, err := c.Write([]byte(l)); n != len(l) || err != nil {
			t.Fatalf("Write(%q) = %d, %v", l, n, err)
		}
	}
	if len(rec.writes) != 0 {
		t.Fatalf("written before the next read: %q", rec.writes)
	}
	buf := make([]byte, 64)
	if _, err := c.Read(buf); err != nil {
		t.Fatal(err)
	}
	want := "250-mx.example.com\r\n250-PIPELINING\r\n250 SIZE 1024\r\n250 2.1.0 Ok\r\n"
	if len(rec.writes) != 1 || rec.writes[0] != want {
		t.Fatalf("writes %q, want one %q", rec.writes, want)
	}
	c.Write([]byte("221 2.0.0 Bye\r\n"))
	c.Close()
	if len(rec.writes) != 2 || rec.writes[1] != "221 2.0.0 Bye\r\n" {
		t.Fatalf("Close did not flush: %q", rec.writes)
	}
}

// TestConnWriteFlushesWhenFull: a large reply burst is not held forever.
func TestConnWriteFlushesWhenFull(t *testing.T) {
	rec := &writeRecorder{}
	c := &conn{Conn: rec, srv: &Server{conns: map[*conn]struct{}{}}}
	line := []byte("250 2.1.5 Ok\r\n")
	for range maxHeld/len(line) + 1 {
		c.Write(line)
	}
	if len(rec.writes) != 1 {
		t.Fatalf("%d writes after %d bytes, want 1", len(rec.writes), maxHeld)
	}
}

func (w *writeRecorder) SetWriteDeadline(time.Time) error { return nil }
func (w *writeRecorder) Close() error                     { return nil }
