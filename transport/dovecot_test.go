package transport

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/vacationd/vacationd/internal/peertest"
)

// TestDovecotForwarder forwards to a real Dovecot LMTP server where one
// user can be stored (250), one has a broken home (451) and one does not
// exist (550). It needs root and the dovecot-lmtpd package; it skips
// otherwise.
func TestDovecotForwarder(t *testing.T) {
	d := peertest.StartDovecot(t, 5*time.Second)

	f := newTestForwarder(t, "lmtp:unix:"+d.Sock)
	msg := "From: s@example.org\r\nTo: alice@example.com\r\nSubject: to dovecot\r\nMessage-ID: <fwd-1@example.org>\r\n\r\nhello\r\n"
	got := f.Forward(context.Background(), "s@example.org", []Recipient{
		{Addr: "alice@example.com"}, {Addr: "broken@example.com"}, {Addr: "nobody@example.com"},
	}, "Received: from client.test by mx.test with LMTP;\r\n\tThu, 26 Nov 2026 21:00:00 +0000\r\n", []byte(msg))
	if codes := fmt.Sprint(got[0].Code, got[1].Code, got[2].Code); codes != "250 451 550" {
		t.Fatalf("codes %s, want 250 451 550: %v", codes, got)
	}
	// One recipient: BDAT in one round trip (Dovecot offers CHUNKING), on
	// the session the first message left in the pool.
	if got := f.Forward(context.Background(), "s@example.org", []Recipient{{Addr: "alice@example.com"}}, "", []byte(msg)); !got[0].OK() {
		t.Fatalf("one recipient: %v", got)
	}
	f.pool.mu.Lock()
	chunking := len(f.pool.idle) == 1 && f.pool.idle[0].s.chunking
	f.pool.mu.Unlock()
	if !chunking {
		t.Errorf("no idle session with CHUNKING and PIPELINING after the first message")
	}
	if got := f.Forward(context.Background(), "s@example.org", []Recipient{{Addr: "nobody@example.com"}}, "", []byte(msg)); got[0].Code != 550 {
		t.Fatalf("one unknown recipient: %v, want 550", got)
	}
	files, _ := filepath.Glob(filepath.Join(d.Maildir("alice"), "new/*"))
	if len(files) != 2 {
		t.Fatalf("%d messages in alice's Maildir, want 2", len(files))
	}
	first, _ := os.ReadFile(files[0])
	if !strings.Contains(string(first), "Received: from client.test") {
		files[0], files[1] = files[1], files[0]
	}
	stored, _ := os.ReadFile(files[0])
	if !strings.Contains(string(stored), "Received: from client.test by mx.test") || !strings.Contains(string(stored), "\nhello") {
		t.Errorf("stored message:\n%s", stored)
	}
}
