package transport

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/vacationd/vacationd/internal/peertest"
)

// TestSmtpSink: the Sender against Postfix's smtp-sink, which offers DSN
// (so NOTIFY=NEVER is sent) and can refuse commands with 4xx or 5xx.
func TestSmtpSink(t *testing.T) {
	tests := []struct {
		name  string
		flags []string
		op    string // "" = delivered
		temp  bool
	}{
		{name: "accepted"},
		{name: "RCPT 4xx", flags: []string{"-r", "RCPT"}, op: "RCPT TO <alice@example.org>", temp: true},
		{name: "RCPT 5xx", flags: []string{"-f", "RCPT"}, op: "RCPT TO <alice@example.org>"},
		// 5xx to MAIL FROM or to the DATA command refuses us, not the
		// recipient: temporary, so the reply is retried and never dropped.
		{name: "MAIL 5xx", flags: []string{"-f", "MAIL"}, op: "MAIL FROM", temp: true},
		{name: "DATA 5xx", flags: []string{"-f", "DATA"}, op: "DATA", temp: true},
		{name: "421 at MAIL", flags: []string{"-Q", "MAIL"}, op: "MAIL FROM", temp: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			sk := peertest.StartSink(t, 5*time.Second, "", tt.flags...)
			s := newTestSender(t, SenderConfig{Addr: sk.Addr, CommandTimeout: 5 * time.Second})
			err := s.Send(context.Background(), "", []string{"alice@example.org"}, []byte(replyMsg))
			if tt.op != "" {
				var se *SendError
				if !errors.As(err, &se) || se.Op != tt.op || se.Temporary != tt.temp {
					t.Fatalf("err %v, want op %q temporary=%v", err, tt.op, tt.temp)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			var files []string
			waitFor(t, func() bool {
				files, _ = filepath.Glob(filepath.Join(sk.Dir, "*"))
				return len(files) == 1
			})
			b, err := os.ReadFile(files[0])
			if err != nil {
				t.Fatal(err)
			}
			dumped := string(b)
			for _, want := range []string{"X-Mail-Args: <>", "X-Rcpt-Args: <alice@example.org> NOTIFY=NEVER", "I am away."} {
				if !strings.Contains(dumped, want) {
					t.Errorf("smtp-sink dump lacks %q:\n%s", want, dumped)
				}
			}
		})
	}
}
