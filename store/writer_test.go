package store

import (
	"context"
	"path/filepath"
	"testing"
	"time"
)

// TestDoneJoinsCommit checks that a Done waits for the next Commit and
// shares its transaction instead of committing (and fsyncing) on its own,
// and that the record stays leased until the deletion is durable.
func TestDoneJoinsCommit(t *testing.T) {
	db, err := Open(filepath.Join(t.TempDir(), "vacationd.db"), Options{NoSync: true, DoneDelay: time.Hour})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	ctx := context.Background()
	if err := db.Commit(ctx, nil, []*OutboxRecord{testRecord(0)}); err != nil {
		t.Fatal(err)
	}
	recs, err := db.Claim(ctx, time.Now(), 0, 0) // leases run on the real clock, which Leased reads
	if err != nil || len(recs) != 1 {
		t.Fatalf("Claim = %v, %v", recs, err)
	}
	before := db.WriterStats().Transactions
	done := make(chan error, 1)
	go func() { done <- db.Done(recs[0].ID) }()
	for deadline := time.Now().Add(5 * time.Second); ; time.Sleep(time.Millisecond) {
		db.w.mu.Lock()
		n := len(db.w.pending)
		db.w.mu.Unlock()
		if n == 1 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("Done never queued")
		}
	}
	select {
	case err := <-done:
		t.Fatalf("Done returned %v before any transaction carried it", err)
	case <-time.After(20 * time.Millisecond):
	}
	if db.Leased() != 1 {
		t.Errorf("Leased = %d while the deletion is pending, want 1", db.Leased())
	}
	if err := db.Commit(ctx, nil, []*OutboxRecord{testRecord(1)}); err != nil {
		t.Fatal(err)
	}
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	if got := db.WriterStats().Transactions - before; got != 1 {
		t.Errorf("Done and Commit took %d transactions, want 1", got)
	}
	if db.Leased() != 0 {
		t.Errorf("Leased = %d after Done, want 0", db.Leased())
	}
	if _, err := db.Get(recs[0].ID); err == nil {
		t.Error("record still stored after Done")
	}
}

// TestDoneAlone checks that a Done with no other write commits on its own
// after DoneDelay, and that Close does not wait for the delay.
func TestDoneAlone(t *testing.T) {
	for _, tc := range []struct {
		name  string
		delay time.Duration
		close bool
	}{
		{"delay", 5 * time.Millisecond, false},
		{"no-delay", -1, false},
		{"close", time.Hour, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			db, err := Open(filepath.Join(t.TempDir(), "vacationd.db"), Options{NoSync: true, DoneDelay: tc.delay})
			if err != nil {
				t.Fatal(err)
			}
			defer db.Close()
			if err := db.Commit(context.Background(), nil, []*OutboxRecord{testRecord(0)}); err != nil {
				t.Fatal(err)
			}
			done := make(chan error, 1)
			go func() { done <- db.Done(1) }()
			if tc.close {
				for db.w.isClosed() == false {
					db.w.mu.Lock()
					n := len(db.w.pending)
					db.w.mu.Unlock()
					if n == 1 {
						db.Close()
					}
					time.Sleep(time.Millisecond)
				}
			}
			select {
			case err := <-done:
				if err != nil {
					t.Fatal(err)
				}
			case <-time.After(10 * time.Second):
				t.Fatal("Done never committed")
			}
		})
	}
}
