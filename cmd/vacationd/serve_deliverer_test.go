package main

import (
	"context"
	"io"
	"log/slog"
	"path/filepath"
	"testing"

	"github.com/vacationd/vacationd/delivery"
	"github.com/vacationd/vacationd/transport"
)

// TestServeRecipientDelimiter: the detail serve cuts from a recipient to
// find its user is --recipient-delimiter, or else Pigeonhole's
// recipient_delimiter given with -o (as `vacationd test` reads it and the
// README's config example sets it), so bob+news@example.com runs
// bob@example.com's script either way.
func TestServeRecipientDelimiter(t *testing.T) {
	dir := t.TempDir()
	scripts := filepath.Join(dir, "scripts")
	writeFile(t, scripts, "example.com/bob.sieve", "require \"vacation\";\nvacation \"Away.\";\n")
	for _, tc := range []struct {
		name    string
		o       serveOptions
		rcpt    string
		replies bool
	}{
		{"flag", serveOptions{recipientDelim: "+"}, "bob+news@example.com", true},
		{"-o", serveOptions{settings: listFlag{"recipient_delimiter=+"}}, "bob+news@example.com", true},
		{"-o with plugin/", serveOptions{settings: listFlag{"plugin/recipient_delimiter=+-"}}, "bob-news@example.com", true},
		{"none", serveOptions{}, "bob+news@example.com", false},
		{"no detail", serveOptions{settings: listFlag{"recipient_delimiter=+"}}, "bob@example.com", true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			db := openTestDB(t)
			o := tc.o
			o.scripts, o.hostname = scripts, "mx.example.com"
			svc, err := newDeliveryService(&o, db, nil, delivery.NewMetrics(nil), slog.New(slog.NewTextHandler(io.Discard, nil)))
			if err != nil {
				t.Fatal(err)
			}
			env := &transport.Envelope{From: "alice@example.org", Recipients: []transport.Recipient{{Addr: tc.rcpt}}}
			msg := "From: alice@example.org\r\nTo: " + tc.rcpt + "\r\nSubject: hi\r\nMessage-ID: <1@example.org>\r\n\r\nhi\r\n"
			if st := svc.Deliver(context.Background(), env, []byte(msg)); st[0].Code != 250 {
				t.Fatalf("status %v", st)
			}
			recs, err := db.ListOutbox()
			if err != nil {
				t.Fatal(err)
			}
			if got := len(recs) == 1; got != tc.replies {
				t.Errorf("%s: %d replies queued, want a reply: %v", tc.rcpt, len(recs), tc.replies)
			}
		})
	}
}
