package relay

import (
	"context"
	"errors"
	"path/filepath"
	"sync/atomic"
	"testing"
	"time"

	"github.com/vacationd/vacationd/store"
)

// flakyDone is an outbox whose Done fails while the database is "down".
type flakyDone struct {
	store.Outbox
	fails atomic.Int32
}

func (f *flakyDone) Done(id uint64) error {
	if f.fails.Add(-1) >= 0 {
		return errors.New("connection refused")
	}
	return f.Outbox.Done(id)
}

// TestDoneRetried: the deletion of a sent record is retried while the
// store fails, so the record is not left to be sent again when its lease
// ends.
func TestDoneRetried(t *testing.T) {
	db, err := store.Open(filepath.Join(t.TempDir(), "v.db"), store.Options{NoSync: true})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	f := &flakyDone{Outbox: db}
	f.fails.Store(3)
	s := &flakySender{sent: make(chan string, 1)}
	r, err := New(Config{DB: f, NewSender: func() Sender { return s }, Workers: 1})
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
	rec := &store.OutboxRecord{To: []string{"alice@example.org"}, Message: []byte("Subject: x\r\n\r\nx\r\n"), Kind: store.KindVacation}
	if err := db.Commit(ctx, nil, []*store.OutboxRecord{rec}); err != nil {
		t.Fatal(err)
	}
	<-s.sent
	for deadline := time.Now().Add(10 * time.Second); ; time.Sleep(10 * time.Millisecond) {
		if _, err := db.Get(rec.ID); errors.Is(err, store.ErrNotFound) {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("record still stored 10s after its send (Done failed %d times)", 3-f.fails.Load())
		}
	}
}
