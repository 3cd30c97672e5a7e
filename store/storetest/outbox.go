package storetest

import (
	"context"
	"errors"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/vacationd/vacationd/store"
)

func ids(recs []store.OutboxRecord) []uint64 {
	var out []uint64
	for _, r := range recs {
		out = append(out, r.ID)
	}
	return out
}

func testOutbox(t *testing.T, b Backend) {
	s := b.New(t)
	r := b.replica(t, s)
	var recs []*store.OutboxRecord
	for i := range 4 {
		recs = append(recs, record(i))
	}
	recs[2].NextAttempt = t0.Add(time.Hour) // later than the others
	recs[3].Queued = time.Time{}            // Commit sets it to now
	recs[3].From = "alice@example.com"
	recs[3].User = "\xffalice@example.com"
	recs[3].To = []string{"a@example.org", "b@example.org"}
	before := time.Now()
	commit(t, s, nil, recs[:2]...)
	commit(t, r, nil, recs[2:]...)
	for i := 1; i < len(recs); i++ {
		if recs[i].ID <= recs[i-1].ID {
			t.Fatalf("IDs not increasing: %d then %d", recs[i-1].ID, recs[i].ID)
		}
	}
	if recs[3].Queued.Before(before.Add(-time.Second)) || !recs[3].NextAttempt.Equal(recs[3].Queued) {
		t.Errorf("defaults: Queued %v NextAttempt %v", recs[3].Queued, recs[3].NextAttempt)
	}
	got, err := r.Get(recs[3].ID)
	if err != nil {
		t.Fatal(err)
	}
	want := *recs[3]
	if got.ID != want.ID || got.From != want.From || !slices.Equal(got.To, want.To) || string(got.Message) != string(want.Message) ||
		got.Kind != want.Kind || got.User != want.User || !got.Queued.Equal(want.Queued) || !got.NextAttempt.Equal(want.NextAttempt) || got.Attempts != 0 {
		t.Errorf("Get = %+v\nwant %+v", got, want)
	}
	if _, err := s.Get(recs[3].ID + 100); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("Get of a missing ID: %v, want ErrNotFound", err)
	}
	due, err := s.Due(t0.Add(time.Minute), 0)
	if err != nil || !slices.Equal(ids(due), []uint64{recs[0].ID, recs[1].ID}) {
		t.Errorf("Due(t0+1m) = %v, %v", ids(due), err)
	}
	if due, _ := s.Due(time.Now().Add(2*time.Hour), 2); len(due) != 2 {
		t.Errorf("Due with limit 2 = %v", ids(due))
	}
	list, err := s.ListOutbox()
	if err != nil || len(list) != 4 || list[0].ID != recs[0].ID || list[3].ID != recs[3].ID {
		t.Errorf("ListOutbox = %v, %v", ids(list), err)
	}
	depth, oldest, err := s.OutboxStats(t0.Add(time.Minute))
	if err != nil || depth != 4 || oldest != time.Minute {
		t.Errorf("OutboxStats = %d, %v, %v; want 4, 1m", depth, oldest, err)
	}
	// Retry counts an attempt; Reschedule does not. A relay's error text
	// may be any bytes.
	next := t0.Add(10 * time.Minute)
	if err := r.Retry(recs[0].ID, next, "451 later \xff\x00"); err != nil {
		t.Fatal(err)
	}
	if g, _ := s.Get(recs[0].ID); g.Attempts != 1 || g.LastError != "451 later \xff\x00" || !g.NextAttempt.Equal(next) {
		t.Errorf("after Retry: %+v", g)
	}
	if err := s.Reschedule(recs[0].ID, t0); err != nil {
		t.Fatal(err)
	}
	if g, _ := r.Get(recs[0].ID); g.Attempts != 1 || !g.NextAttempt.Equal(t0) {
		t.Errorf("after Reschedule: %+v", g)
	}
	if err := s.Done(recs[0].ID); err != nil {
		t.Fatal(err)
	}
	if _, err := r.Get(recs[0].ID); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("Get after Done: %v", err)
	}
	for name, fn := range map[string]func(uint64) error{
		"Done":       s.Done,
		"Retry":      func(id uint64) error { return s.Retry(id, t0, "x") },
		"Reschedule": func(id uint64) error { return s.Reschedule(id, t0) },
		"Drop":       func(id uint64) error { return s.Drop(id, "x") },
	} {
		if err := fn(recs[0].ID); !errors.Is(err, store.ErrNotFound) {
			t.Errorf("%s of a deleted record: %v, want ErrNotFound", name, err)
		}
	}
	if depth, _, _ := s.OutboxStats(t0); depth != 3 {
		t.Errorf("depth after Done = %d, want 3", depth)
	}
	if err := s.Commit(context.Background(), nil, nil); err != nil {
		t.Errorf("empty Commit: %v", err)
	}
}

func testLeases(t *testing.T, b Backend) {
	s := b.New(t)
	r := b.replica(t, s)
	ctx := context.Background()
	var recs []*store.OutboxRecord
	for i := range 5 {
		recs = append(recs, record(i))
	}
	commit(t, s, nil, recs...)
	// Leases against the real clock: RescheduleIdle and Leased read it.
	now := time.Now()
	if next, ok, err := s.NextDue(ctx); err != nil || !ok || !next.Equal(recs[0].NextAttempt) {
		t.Errorf("NextDue = %v, %v, %v; want %v", next, ok, err, recs[0].NextAttempt)
	}
	a, err := s.Claim(ctx, now, 2, time.Minute)
	if err != nil || !slices.Equal(ids(a), []uint64{recs[0].ID, recs[1].ID}) {
		t.Fatalf("Claim(2) = %v, %v", ids(a), err)
	}
	if !a[0].LeaseUntil.Equal(now.Add(time.Minute)) {
		t.Errorf("LeaseUntil = %v, want now+1m", a[0].LeaseUntil)
	}
	c, err := r.Claim(ctx, now, 0, time.Minute)
	if err != nil || !slices.Equal(ids(c), []uint64{recs[2].ID, recs[3].ID, recs[4].ID}) {
		t.Fatalf("second Claim = %v, %v; want the three others", ids(c), err)
	}
	if d, _ := s.Claim(ctx, now, 0, time.Minute); len(d) != 0 {
		t.Fatalf("third Claim = %v, want nothing", ids(d))
	}
	if due, _ := s.Due(now, 0); len(due) != 5 {
		t.Errorf("Due ignores leases: got %d, want 5", len(due))
	}
	if next, ok, _ := s.NextDue(ctx); !ok || !next.Equal(now.Add(time.Minute)) {
		t.Errorf("NextDue with all leased = %v, %v; want the end of the leases", next, ok)
	}
	if err := s.RescheduleIdle(recs[2].ID, now); !errors.Is(err, store.ErrLeased) {
		t.Errorf("RescheduleIdle of a record leased by a replica: %v, want ErrLeased", err)
	}
	r.Release(recs[2].ID)
	if d, _ := s.Claim(ctx, now, 0, time.Minute); !slices.Equal(ids(d), []uint64{recs[2].ID}) {
		t.Errorf("Claim after Release = %v, want %d", ids(d), recs[2].ID)
	}
	// Done, Retry and Drop end the lease; Retry's record is due again at
	// its new time, for anyone.
	if err := s.Done(recs[0].ID); err != nil {
		t.Fatal(err)
	}
	if err := s.Retry(recs[1].ID, now, "451"); err != nil {
		t.Fatal(err)
	}
	if err := r.Drop(recs[3].ID, "550"); err != nil {
		t.Fatal(err)
	}
	if d, _ := r.Claim(ctx, now, 0, time.Minute); !slices.Equal(ids(d), []uint64{recs[1].ID}) {
		t.Errorf("Claim after Done/Retry/Drop = %v, want the retried %d", ids(d), recs[1].ID)
	}
	// An idle record can be rescheduled by an operator.
	r.Release(recs[1].ID)
	if err := s.RescheduleIdle(recs[1].ID, now); err != nil {
		t.Errorf("RescheduleIdle of an idle record: %v", err)
	}
	if err := s.RescheduleIdle(recs[0].ID, now); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("RescheduleIdle of a deleted record: %v, want ErrNotFound", err)
	}
}

// testLeaseExpiry: a lease whose time ran out (its worker died) lets any
// replica claim the record again.
func testLeaseExpiry(t *testing.T, b Backend) {
	s := b.New(t)
	ctx := context.Background()
	rec := record(1)
	commit(t, s, nil, rec)
	now := t0.Add(time.Hour)
	if a, err := s.Claim(ctx, now, 0, time.Second); err != nil || len(a) != 1 {
		t.Fatalf("Claim = %v, %v", ids(a), err)
	}
	r := b.replica(t, s)
	if a, _ := r.Claim(ctx, now.Add(999*time.Millisecond), 0, time.Second); len(a) != 0 {
		t.Errorf("Claim before the lease ended = %v", ids(a))
	}
	a, err := r.Claim(ctx, now.Add(time.Second), 0, time.Minute)
	if err != nil || !slices.Equal(ids(a), []uint64{rec.ID}) {
		t.Errorf("Claim at the end of the lease = %v, %v; want %d", ids(a), err, rec.ID)
	}
	// The dead worker's late Done still deletes the record: the relay
	// took it, and a delete is never harmful.
	if err := s.Done(rec.ID); err != nil {
		t.Errorf("Done after the lease moved: %v", err)
	}
	if _, ok, _ := r.NextDue(ctx); ok {
		t.Error("NextDue on an empty outbox reports a time")
	}
}

// testClaimConcurrent has workers on every replica claim and finish
// records at once: each record is claimed exactly once.
func testClaimConcurrent(t *testing.T, b Backend) {
	s := b.New(t)
	var recs []*store.OutboxRecord
	for i := range 60 {
		recs = append(recs, record(i))
	}
	commit(t, s, nil, recs...)
	states := []store.State{s, b.replica(t, s), b.replica(t, s)}
	var (
		wg     sync.WaitGroup
		mu     sync.Mutex
		counts = map[uint64]int{}
	)
	for w := range 6 {
		st := states[w%len(states)]
		wg.Go(func() {
			for {
				got, err := st.Claim(context.Background(), t0.Add(time.Hour), 3, time.Minute)
				if err != nil {
					t.Errorf("Claim: %v", err)
					return
				}
				if len(got) == 0 {
					return
				}
				for _, r := range got {
					mu.Lock()
					counts[r.ID]++
					mu.Unlock()
					if err := st.Done(r.ID); err != nil {
						t.Errorf("Done: %v", err)
					}
				}
			}
		})
	}
	wg.Wait()
	for _, r := range recs {
		if counts[r.ID] != 1 {
			t.Errorf("record %d claimed %d times, want 1", r.ID, counts[r.ID])
		}
	}
	if depth, _, _ := s.OutboxStats(t0); depth != 0 {
		t.Errorf("depth after draining = %d", depth)
	}
}

func testDropped(t *testing.T, b Backend) {
	s := b.New(t)
	var recs []*store.OutboxRecord
	for i := range 3 {
		recs = append(recs, record(i))
	}
	commit(t, s, nil, recs...)
	if err := s.Drop(recs[1].ID, "550 no such user"); err != nil {
		t.Fatal(err)
	}
	if err := s.Drop(recs[0].ID, "expired"); err != nil {
		t.Fatal(err)
	}
	d, err := b.replica(t, s).ListDropped()
	if err != nil || len(d) != 2 {
		t.Fatalf("ListDropped = %v, %v", d, err)
	}
	if d[0].Record.ID != recs[0].ID || d[0].Reason != "expired" || d[1].Reason != "550 no such user" ||
		d[1].Record.Message != nil || !slices.Equal(d[1].Record.To, recs[1].To) || d[1].Dropped.IsZero() {
		t.Errorf("ListDropped = %+v", d)
	}
	if list, _ := s.ListOutbox(); len(list) != 1 {
		t.Errorf("outbox after two drops has %d records", len(list))
	}
}

func testQueued(t *testing.T, b Backend) {
	s := b.New(t)
	// Drain a signal left from before.
	select {
	case <-s.Queued():
	default:
	}
	commit(t, s, []store.Mark{mark("a@example.com", "b@example.org", "", t0, time.Hour)})
	rec := record(1)
	commit(t, s, nil, rec)
	select {
	case <-s.Queued():
	case <-time.After(10 * time.Second):
		t.Fatal("Queued not signalled after a Commit that stored a record")
	}
	if err := s.Reschedule(rec.ID, t0); err != nil {
		t.Fatal(err)
	}
	select {
	case <-s.Queued():
	case <-time.After(10 * time.Second):
		t.Fatal("Queued not signalled after Reschedule")
	}
}
