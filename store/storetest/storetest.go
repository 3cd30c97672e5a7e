// Package storetest is the contract test suite of the state interfaces in
// package store ([store.State]): every backend runs it, so the embedded
// bbolt store and PostgreSQL give the guarantees the contracts state.
package storetest

import (
	"context"
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/vacationd/vacationd/store"
)

// Backend makes the states the suite runs against.
type Backend struct {
	// New returns a fresh, empty state; the test's cleanup closes it.
	New func(t *testing.T) store.State
	// Replica, when not nil, returns another handle on the state s, as a
	// second replica sharing it would have; its cleanup closes it. nil for
	// a backend only one process can open: the tests then use s itself.
	Replica func(t *testing.T, s store.State) store.State
}

// t0 is the suite's clock origin; the backends must accept any time.
var t0 = time.Date(2026, 7, 1, 12, 0, 0, 0, time.UTC)

// Run runs every contract test against b.
func Run(t *testing.T, b Backend) {
	tests := []struct {
		name string
		fn   func(*testing.T, Backend)
	}{
		{"DedupMarks", testDedupMarks},
		{"DedupListForget", testDedupListForget},
		{"Sweep", testSweep},
		{"ExclusiveMark", testExclusiveMark},
		{"ExclusiveRace", testExclusiveRace},
		{"CommitInvalid", testCommitInvalid},
		{"Outbox", testOutbox},
		{"Leases", testLeases},
		{"LeaseExpiry", testLeaseExpiry},
		{"ClaimConcurrent", testClaimConcurrent},
		{"Dropped", testDropped},
		{"Queued", testQueued},
		{"Scripts", testScripts},
		{"RenameScript", testRenameScript},
		{"Metadata", testMetadata},
		{"ReplyLimits", testReplyLimits},
		{"ReplyLimitsInvalid", testReplyLimitsInvalid},
		{"ReplyLimitsRace", testReplyLimitsRace},
		{"PingClose", testPingClose},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) { tc.fn(t, b) })
	}
}

func (b Backend) replica(t *testing.T, s store.State) store.State {
	if b.Replica == nil {
		return s
	}
	return b.Replica(t, s)
}

func record(i int) *store.OutboxRecord {
	return &store.OutboxRecord{
		To:      []string{fmt.Sprintf("sender%d@example.org", i)},
		Message: []byte(fmt.Sprintf("Subject: Auto: hello %d\r\n\r\nI am away.\r\n", i)),
		Kind:    store.KindVacation,
		User:    "alice@example.com",
		Queued:  t0.Add(time.Duration(i) * time.Second),
	}
}

func commit(t *testing.T, s store.State, marks []store.Mark, recs ...*store.OutboxRecord) {
	t.Helper()
	if err := s.Commit(context.Background(), marks, recs); err != nil {
		t.Fatalf("Commit: %v", err)
	}
}

func mark(user, sender, handle string, created time.Time, period time.Duration) store.Mark {
	return store.Mark{Key: store.DedupKey{User: user, Sender: sender, Handle: handle}, Created: created, Expires: created.Add(period)}
}

func seen(t *testing.T, s store.State, k store.DedupKey, now time.Time) bool {
	t.Helper()
	ok, err := s.Seen(context.Background(), k, now)
	if err != nil {
		t.Fatalf("Seen(%v): %v", k, err)
	}
	return ok
}

func testPingClose(t *testing.T, b Backend) {
	s := b.New(t)
	if err := s.Ping(context.Background()); err != nil {
		t.Fatalf("Ping: %v", err)
	}
	if err := s.Close(); err != nil {
		t.Fatalf("Close: %v", err)
	}
	if err := s.Close(); err != nil {
		t.Errorf("second Close: %v", err)
	}
	if err := s.Ping(context.Background()); !errors.Is(err, store.ErrClosed) {
		t.Errorf("Ping after Close: %v, want ErrClosed", err)
	}
	if err := s.Commit(context.Background(), []store.Mark{mark("a@example.com", "b@example.org", "", t0, time.Hour)}, nil); !errors.Is(err, store.ErrClosed) {
		t.Errorf("Commit after Close: %v, want ErrClosed", err)
	}
}
