package relay

import (
	"context"
	"path/filepath"
	"testing"
	"time"

	"github.com/vacationd/vacationd/store"
)

// TestFlush: records waiting for a later attempt become due at once,
// without an attempt counted; one being sent (leased) and one due already
// are left as they are.
func TestFlush(t *testing.T) {
	db, err := store.Open(filepath.Join(t.TempDir(), "v.db"), store.Options{NoSync: true})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	queue(t, db, "a@x", "b@x", "c@x", "d@x")
	now := time.Now()
	recs, err := db.Claim(context.Background(), now, 0, time.Minute)
	if err != nil || len(recs) != 4 {
		t.Fatalf("claim: %d records, %v", len(recs), err)
	}
	later := now.Add(time.Hour)
	for _, r := range recs[:2] { // a, b wait for a retry in an hour
		if err := db.Retry(r.ID, later, "451 relay busy"); err != nil {
			t.Fatal(err)
		}
	}
	// c waits too, but a relay has claimed it (with d, first in schedule
	// order).
	if err := db.Retry(recs[2].ID, later.Add(-time.Minute), "451 relay busy"); err != nil {
		t.Fatal(err)
	}
	db.Release(recs[3].ID) // d: due now already
	if got, err := db.Claim(context.Background(), later, 2, 2*time.Hour); err != nil || len(got) != 2 || got[1].ID != recs[2].ID {
		t.Fatalf("claim d and c: %v %v", got, err)
	}
	n, err := Flush(db, now)
	if err != nil || n != 2 {
		t.Fatalf("Flush = %d, %v; want 2 (a and b)", n, err)
	}
	for i, want := range []time.Time{now, now, later.Add(-time.Minute), recs[3].NextAttempt} {
		r, err := db.Get(recs[i].ID)
		if err != nil {
			t.Fatal(err)
		}
		if !r.NextAttempt.Equal(want) {
			t.Errorf("%s: next attempt %v, want %v", r.To[0], r.NextAttempt, want)
		}
		if wantAttempts := map[int]int{0: 1, 1: 1, 2: 1}[i]; r.Attempts != wantAttempts {
			t.Errorf("%s: %d attempts, want %d", r.To[0], r.Attempts, wantAttempts)
		}
	}
}
