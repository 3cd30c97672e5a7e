package relay

import (
	"context"
	"errors"
	"path/filepath"
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
