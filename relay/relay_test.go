package relay

import (
	"context"
	"errors"
	"log/slog"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/vacationd/vacationd/store"
)

// flakySender fails the first fails sends, then accepts.
type flakySender struct {
	mu    sync.Mutex
	fails int
	sent  chan string
}

func (s *flakySender) Send(_ context.Context, _ string, to []string, _ []byte) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.fails > 0 {
		s.fails--
		return errors.New("452 try later")
	}
	s.sent <- to[0]
	return nil
}

func (s *flakySender) Close() error { return nil }

// TestRetryWakesDispatcher: a record retried after a temporary failure is
// sent again at its new due time, not when the dispatcher's idle wait (a
// minute) runs out: while it was leased the dispatcher could not see it.
func TestRetryWakesDispatcher(t *testing.T) {
	db, err := store.Open(filepath.Join(t.TempDir(), "v.db"), store.Options{NoSync: true})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	s := &flakySender{fails: 2, sent: make(chan string, 1)}
	r, err := New(Config{DB: db, NewSender: func() Sender { return s }, Workers: 1,
		RetryMin: 20 * time.Millisecond, RetryMax: 40 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- r.Run(ctx) }()
	defer func() {
		cancel()
		<-done
	}()
	rec := &store.OutboxRecord{From: "", To: []string{"alice@example.org"}, Message: []byte("Subject: x\r\n\r\nx\r\n"), Kind: store.KindVacation}
	if err := db.Commit(ctx, nil, []*store.OutboxRecord{rec}); err != nil {
		t.Fatal(err)
	}
	select {
	case to := <-s.sent:
		if to != "alice@example.org" {
			t.Errorf("sent to %q", to)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("record not sent after two temporary failures within 10s (retry min 20ms)")
	}
}

// permErr is a permanent refusal in the tests' IsTemporary.
type permErr struct{ to string }

func (e permErr) Error() string { return "550 5.1.1 <" + e.to + "> refused" }

func isTemp(err error) bool {
	var p permErr
	return !errors.As(err, &p)
}

// scriptedSender refuses permanently while refuse(to) says so and records
// what it accepted.
type scriptedSender struct {
	mu     sync.Mutex
	refuse func(to string) bool
	sent   map[string]int
	calls  int
}

func (s *scriptedSender) Send(_ context.Context, _ string, to []string, _ []byte) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.calls++
	if s.refuse(to[0]) {
		return permErr{to[0]}
	}
	s.sent[to[0]]++
	return nil
}

func (s *scriptedSender) Close() error { return nil }

func (s *scriptedSender) count(to string) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.sent[to]
}

func startRelay(t *testing.T, s Sender, opts ...func(*Config)) (*store.DB, *Relay) {
	t.Helper()
	db, err := store.Open(filepath.Join(t.TempDir(), "v.db"), store.Options{NoSync: true})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	cfg := Config{DB: db, NewSender: func() Sender { return s }, Workers: 1, IsTemporary: isTemp,
		RetryMin: 10 * time.Millisecond, RetryMax: 20 * time.Millisecond}
	for _, o := range opts {
		o(&cfg)
	}
	r, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- r.Run(ctx) }()
	t.Cleanup(func() {
		cancel()
		<-done
	})
	return db, r
}

func queue(t *testing.T, db *store.DB, to ...string) {
	t.Helper()
	var recs []*store.OutboxRecord
	for _, a := range to {
		recs = append(recs, &store.OutboxRecord{To: []string{a}, Message: []byte("Subject: x\r\n\r\nx\r\n"), Kind: store.KindVacation})
	}
	if err := db.Commit(context.Background(), nil, recs); err != nil {
		t.Fatal(err)
	}
}

func waitUntil(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// TestRefusingRelayDropsNothing: a relay refusing every recipient with a
// 5xx for a while (a lost authorisation: "554 relay access denied") is a
// relay failure: every record is retried and sent once the relay is back,
// none is dropped, and Health counts the failures meanwhile.
func TestRefusingRelayDropsNothing(t *testing.T) {
	var mu sync.Mutex
	down := true
	s := &scriptedSender{sent: map[string]int{}, refuse: func(string) bool {
		mu.Lock()
		defer mu.Unlock()
		return down
	}}
	db, r := startRelay(t, s)
	to := []string{"a@example.org", "b@example.org", "c@example.org", "d@example.org", "e@example.org"}
	queue(t, db, to...)
	waitUntil(t, "20 refused attempts", func() bool {
		s.mu.Lock()
		defer s.mu.Unlock()
		return s.calls >= 20
	})
	if h := r.Health(); h.Failures == 0 || h.Since.IsZero() || h.LastError == "" {
		t.Errorf("Health during the outage: %+v, want failures counted", h)
	}
	mu.Lock()
	down = false
	mu.Unlock()
	for _, a := range to {
		waitUntil(t, a+" sent", func() bool { return s.count(a) == 1 })
	}
	dropped, err := db.ListDropped()
	if err != nil {
		t.Fatal(err)
	}
	if len(dropped) != 0 {
		t.Errorf("dropped %d records during a relay outage: %+v", len(dropped), dropped)
	}
	if h := r.Health(); h.Failures != 0 {
		t.Errorf("Health after recovery: %+v", h)
	}
}

// TestRefusedRecipientDropped: a recipient the relay refuses while it
// accepts others is dropped (once the refusal is confirmed), the others
// are sent.
func TestRefusedRecipientDropped(t *testing.T) {
	s := &scriptedSender{sent: map[string]int{}, refuse: func(to string) bool { return to == "bad@example.org" }}
	db, _ := startRelay(t, s)
	queue(t, db, "bad@example.org", "good@example.org")
	waitUntil(t, "good sent", func() bool { return s.count("good@example.org") == 1 })
	var dropped []store.DroppedRecord
	waitUntil(t, "bad dropped", func() bool {
		dropped, _ = db.ListDropped()
		return len(dropped) == 1
	})
	if n, _, _ := db.OutboxStats(time.Now()); n != 0 {
		t.Errorf("%d records left", n)
	}
}

// TestDropCauseLogged: a record the relay can never take (a reply to an
// SMTPUTF8 sender through a relay without SMTPUTF8) is dropped at its
// first attempt with its cause in the log line and in the dropped list,
// not silently.
func TestDropCauseLogged(t *testing.T) {
	logs := &syncBuf{}
	s := &scriptedSender{sent: map[string]int{}, refuse: func(to string) bool { return to == "jörg@example.org" }}
	db, _ := startRelay(t, s, func(c *Config) {
		c.Cause = func(error) string { return "smtputf8" }
		c.Unsendable = func(error) bool { return true }
		c.Logger = slog.New(slog.NewTextHandler(logs, nil))
	})
	queue(t, db, "jörg@example.org")
	var dropped []store.DroppedRecord
	waitUntil(t, "dropped", func() bool {
		dropped, _ = db.ListDropped()
		return len(dropped) == 1
	})
	if !strings.HasPrefix(dropped[0].Reason, "smtputf8: ") {
		t.Errorf("dropped reason %q", dropped[0].Reason)
	}
	s.mu.Lock()
	calls := s.calls
	s.mu.Unlock()
	if calls != 1 {
		t.Errorf("%d attempts, want 1", calls)
	}
	if !strings.Contains(logs.String(), "level=ERROR") || !strings.Contains(logs.String(), "cause=smtputf8") {
		t.Errorf("log lacks the drop and its cause:\n%s", logs.String())
	}
}

type syncBuf struct {
	mu sync.Mutex
	b  strings.Builder
}

func (b *syncBuf) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.b.Write(p)
}

func (b *syncBuf) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.b.String()
}
