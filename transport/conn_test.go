package transport

import (
	"net"
	"testing"
)

func TestContinues(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want bool
	}{
		{"250-PIPELINING\r\n", true},
		{"250-mx.example.com\r\n", true},
		{"250 SIZE 1024\r\n", false},
		{"250-A\r\n250 B\r\n", false},
		{"250 A\r\n250-B\r\n", true},
		{"250-A", false},            // no CRLF: not a complete line
		{"25-A\r\n", false},         // two digits
		{"abc-def\r\n", false},      // not a code
		{"-\r\n", false},            // too short
		{"\r\n250-A\r\n", true},     // an empty line before
		{"220-\r\n", true},          // an empty continuation
		{"354 go ahead\r\n", false}, // a final line
	} {
		if got := continues([]byte(tc.in)); got != tc.want {
			t.Errorf("continues(%q) = %v, want %v", tc.in, got, tc.want)
		}
	}
}

// writeRecorder records each Write on the underlying connection.
type writeRecorder struct {
	net.Conn
	writes []string
}

func (w *writeRecorder) Write(b []byte) (int, error) {
	w.writes = append(w.writes, string(b))
	return len(b), nil
}

// TestConnWriteCoalescesMultiline: the lines of a multi-line reply, which
// go-smtp flushes one by one, reach the socket in one write; single-line
// replies are written at once.
func TestConnWriteCoalescesMultiline(t *testing.T) {
	rec := &writeRecorder{}
	c := &conn{Conn: rec}
	for _, l := range []string{"250-mx.example.com\r\n", "250-PIPELINING\r\n", "250 SIZE 1024\r\n", "250 2.1.0 Ok\r\n"} {
		if n, err := c.Write([]byte(l)); n != len(l) || err != nil {
			t.Fatalf("Write(%q) = %d, %v", l, n, err)
		}
	}
	want := []string{"250-mx.example.com\r\n250-PIPELINING\r\n250 SIZE 1024\r\n", "250 2.1.0 Ok\r\n"}
	if len(rec.writes) != len(want) {
		t.Fatalf("writes %q, want %q", rec.writes, want)
	}
	for i := range want {
		if rec.writes[i] != want[i] {
			t.Errorf("write %d = %q, want %q", i, rec.writes[i], want[i])
		}
	}
}
