package main

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"path/filepath"
	"testing"
	"time"

	"github.com/vacationd/vacationd/delivery"
	"github.com/vacationd/vacationd/internal/peertest"
	"github.com/vacationd/vacationd/store"
	"github.com/vacationd/vacationd/store/postgres"
	"github.com/vacationd/vacationd/transport"
	"github.com/vacationd/vacationd/vacation"
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

// TestServeReplyLimitsShared: with the state in PostgreSQL the
// backscatter limits count in it, so two replicas (two services on two
// handles, each with its own process counts, the second one reloaded
// halfway) queue sieve_vacation_max_replies_per_address replies to one
// address in all; with bbolt the limits are the process's own.
func TestServeReplyLimitsShared(t *testing.T) {
	dir := t.TempDir()
	scripts := filepath.Join(dir, "scripts")
	writeFile(t, scripts, "example.com/bob.sieve", "require \"vacation\";\nvacation \"Away.\";\n")
	pg := peertest.StartPostgres(t, 30*time.Second, false)
	url := pg.CreateDB(t)
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	var dbs []store.State
	var svcs []*delivery.Service
	newService := func(db store.State, counts *vacation.RateCounts) *delivery.Service {
		o := serveOptions{scripts: scripts, hostname: "mx.example.com", rateCounts: counts,
			settings: listFlag{"sieve_vacation_max_replies_per_address=3"}}
		svc, err := newDeliveryService(&o, db, nil, delivery.NewMetrics(nil), log)
		if err != nil {
			t.Fatal(err)
		}
		return svc
	}
	var counts []*vacation.RateCounts
	for range 2 {
		db, err := postgres.Open(context.Background(), url, postgres.Options{Logger: log})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { db.Close() })
		dbs, counts = append(dbs, db), append(counts, vacation.NewRateCounts())
		svcs = append(svcs, newService(db, counts[len(counts)-1]))
	}
	for i := range 8 {
		if i == 4 {
			svcs[1] = newService(dbs[1], counts[1]) // a reload
		}
		from := fmt.Sprintf("victim+%d@example.org", i)
		env := &transport.Envelope{From: from, Recipients: []transport.Recipient{{Addr: "bob@example.com"}}}
		msg := fmt.Sprintf("From: %s\r\nTo: bob@example.com\r\nSubject: hi\r\nMessage-ID: <%d@example.org>\r\n\r\nhi\r\n", from, i)
		if st := svcs[i%2].Deliver(context.Background(), env, []byte(msg)); st[0].Code != 250 {
			t.Fatalf("message %d: status %v", i, st)
		}
	}
	recs, err := dbs[0].ListOutbox()
	if err != nil {
		t.Fatal(err)
	}
	if len(recs) != 3 {
		t.Errorf("two replicas queued %d replies to victim@example.org, want 3 (the limit)", len(recs))
	}
	local := vacation.RateLimit{PerAddress: 3, Counts: vacation.NewRateCounts()}
	if _, ok := replyLimiter(dbs[0], local, delivery.NewMetrics(nil), log).(*delivery.SharedLimit); !ok {
		t.Error("the limiter on PostgreSQL is not a SharedLimit")
	}
	if _, ok := replyLimiter(openTestDB(t), local, delivery.NewMetrics(nil), log).(vacation.RateLimit); !ok {
		t.Error("the limiter on bbolt is not the process's RateLimit")
	}
}
