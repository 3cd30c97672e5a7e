// Package storetest is the contract test suite of the state interfaces in
// package store ([store.State]): every backend runs it, so the embedded
// bbolt store and PostgreSQL give the guarantees the contracts state.
package storetest

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sync"
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

func testDedupMarks(t *testing.T, b Backend) {
	s := b.New(t)
	k := store.DedupKey{User: "alice@example.com", Sender: "bob@example.org", Handle: "h1"}
	if seen(t, s, k, t0) {
		t.Fatal("Seen on an empty store")
	}
	commit(t, s, []store.Mark{mark("Alice@Example.com", "Bob@Example.ORG", "h1", t0, time.Hour)})
	r := b.replica(t, s)
	for _, tc := range []struct {
		k    store.DedupKey
		at   time.Time
		want bool
	}{
		{k, t0, true},
		{k, t0.Add(time.Hour - time.Nanosecond), true},
		{k, t0.Add(time.Hour), false}, // live while now < Expires
		{store.DedupKey{User: "ALICE@example.com", Sender: "bob@EXAMPLE.org", Handle: "h1"}, t0, true},
		{store.DedupKey{User: "alice@example.com", Sender: "bob@example.org", Handle: "H1"}, t0, false},
		{store.DedupKey{User: "alice@example.com", Sender: "carol@example.org", Handle: "h1"}, t0, false},
	} {
		if got := seen(t, r, tc.k, tc.at); got != tc.want {
			t.Errorf("Seen(%v at %v) = %v, want %v", tc.k, tc.at.Sub(t0), got, tc.want)
		}
	}
	// A plain mark replaces the existing one, live or not.
	commit(t, s, []store.Mark{mark("alice@example.com", "bob@example.org", "h1", t0, time.Minute)})
	if seen(t, r, k, t0.Add(2*time.Minute)) {
		t.Error("a replacing mark with a shorter period did not replace the first")
	}
	if n, err := s.DedupCount(); err != nil || n != 1 {
		t.Errorf("DedupCount = %d, %v; want 1", n, err)
	}
	// Any bytes: a handle of NULs (vacation's default handle has them),
	// a sender that is not UTF-8.
	odd := store.DedupKey{User: "alice@example.com", Sender: "\xff\xfe@example.org", Handle: "a\x00b\x00\xff"}
	commit(t, s, []store.Mark{{Key: odd, Created: t0, Expires: t0.Add(time.Hour)}})
	if !seen(t, r, odd, t0) {
		t.Error("a mark with a NUL handle and a non-UTF-8 sender is not seen")
	}
	if l, err := r.ListDedup("alice@example.com", odd.Sender); err != nil || len(l) != 1 || l[0].Key.Handle != odd.Handle { // ToLower maps invalid UTF-8 to U+FFFD
		t.Errorf("ListDedup of the odd key = %+v, %v", l, err)
	}
	if _, err := s.Seen(context.Background(), store.DedupKey{User: "", Sender: "x@y"}, t0); !errors.Is(err, store.ErrInvalid) {
		t.Errorf("Seen with an empty user: %v, want ErrInvalid", err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := s.Seen(ctx, k, t0); err == nil {
		t.Error("Seen with an ended context succeeded")
	}
}

func testDedupListForget(t *testing.T, b Backend) {
	s := b.New(t)
	commit(t, s, []store.Mark{
		mark("alice@example.com", "bob@example.org", "h1", t0, time.Hour),
		mark("alice@example.com", "bob@example.org", "h2", t0, time.Hour),
		mark("alice@example.com", "carol@example.org", "h1", t0, time.Minute),
		mark("alice2@example.com", "bob@example.org", "h1", t0, time.Hour),
		mark("dave@example.com", "bob@example.org", "h1", t0, time.Hour),
	})
	r := b.replica(t, s)
	list, err := r.ListDedup("Alice@example.com", "")
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, d := range list {
		got = append(got, d.Key.User+" "+d.Key.Sender+" "+d.Key.Handle)
	}
	want := []string{"alice@example.com bob@example.org h1", "alice@example.com bob@example.org h2", "alice@example.com carol@example.org h1"}
	if !slices.Equal(got, want) {
		t.Errorf("ListDedup(alice) = %q, want %q", got, want)
	}
	if len(list) == 3 && (!list[2].Created.Equal(t0) || !list[2].Expires.Equal(t0.Add(time.Minute))) {
		t.Errorf("ListDedup times = %v, %v", list[2].Created, list[2].Expires)
	}
	if list, err := r.ListDedup("alice@example.com", "BOB@example.org"); err != nil || len(list) != 2 {
		t.Errorf("ListDedup(alice, bob) = %v, %v; want 2 records", list, err)
	}
	if n, err := r.ForgetDedup("alice@example.com", "bob@example.org"); err != nil || n != 2 {
		t.Errorf("ForgetDedup(alice, bob) = %d, %v; want 2", n, err)
	}
	if seen(t, s, store.DedupKey{User: "alice@example.com", Sender: "bob@example.org", Handle: "h1"}, t0) {
		t.Error("a forgotten mark is still seen")
	}
	if n, err := r.ForgetDedup("alice@example.com", ""); err != nil || n != 1 {
		t.Errorf("ForgetDedup(alice) = %d, %v; want 1", n, err)
	}
	if n, err := s.DedupCount(); err != nil || n != 2 {
		t.Errorf("DedupCount = %d, %v; want 2 (alice2's and dave's)", n, err)
	}
	if _, err := s.ListDedup("", ""); !errors.Is(err, store.ErrInvalid) {
		t.Errorf("ListDedup with no user: %v, want ErrInvalid", err)
	}
}

func testSweep(t *testing.T, b Backend) {
	s := b.New(t)
	var marks []store.Mark
	for i := range 20 {
		marks = append(marks, mark("alice@example.com", fmt.Sprintf("s%d@example.org", i), "", t0, time.Duration(i+1)*time.Minute))
	}
	commit(t, s, marks)
	// Re-marked with a later expiry: an old expiry must not sweep it.
	commit(t, s, []store.Mark{mark("alice@example.com", "s0@example.org", "", t0, time.Hour)})
	n, err := s.Sweep(t0.Add(10 * time.Minute))
	if err != nil || n != 9 { // s1..s9 expire at 2..10 minutes
		t.Errorf("Sweep = %d, %v; want 9", n, err)
	}
	if !seen(t, s, store.DedupKey{User: "alice@example.com", Sender: "s0@example.org"}, t0.Add(30*time.Minute)) {
		t.Error("Sweep deleted a mark renewed after the expiry it swept")
	}
	if c, err := s.DedupCount(); err != nil || c != 11 {
		t.Errorf("DedupCount after Sweep = %d, %v; want 11", c, err)
	}
	// Concurrent sweeps (replicas) together delete each record once.
	r := b.replica(t, s)
	var (
		wg    sync.WaitGroup
		mu    sync.Mutex
		total int
	)
	for _, st := range []store.State{s, r, s, r} {
		wg.Go(func() {
			n, err := st.Sweep(t0.Add(2 * time.Hour))
			if err != nil {
				t.Errorf("concurrent Sweep: %v", err)
			}
			mu.Lock()
			total += n
			mu.Unlock()
		})
	}
	wg.Wait()
	if total != 11 {
		t.Errorf("concurrent sweeps deleted %d, want 11", total)
	}
	if c, _ := s.DedupCount(); c != 0 {
		t.Errorf("DedupCount after sweeping everything = %d", c)
	}
}

func exclusive(m store.Mark, r *store.OutboxRecord) store.Mark {
	m.Reply = r
	return m
}

func testExclusiveMark(t *testing.T, b Backend) {
	s := b.New(t)
	r1, redirect := record(1), record(2)
	redirect.Kind = store.KindRedirect
	commit(t, s, []store.Mark{exclusive(mark("alice@example.com", "bob@example.org", "h", t0, time.Hour), r1)}, r1, redirect)
	if r1.ID == 0 || redirect.ID == 0 {
		t.Fatalf("IDs %d, %d after a winning commit", r1.ID, redirect.ID)
	}
	// A second exclusive mark while the first is live loses: its reply is
	// not stored, the rest of the commit is.
	rep := b.replica(t, s)
	r2, other := record(3), record(4)
	dup := mark("alice@example.com", "bob@example.org", "h", t0.Add(time.Minute), 2*time.Hour)
	commit(t, rep, []store.Mark{exclusive(dup, r2), mark("alice@example.com", "x@example.org", "", t0, time.Hour)}, r2, other)
	if r2.ID != 0 {
		t.Errorf("the losing mark's reply got ID %d, want 0 (not stored)", r2.ID)
	}
	if other.ID == 0 {
		t.Error("a record not tied to the losing mark was not stored")
	}
	if !seen(t, s, store.DedupKey{User: "alice@example.com", Sender: "x@example.org"}, t0) {
		t.Error("a plain mark of the commit with a losing mark was not stored")
	}
	list, _ := s.ListDedup("alice@example.com", "bob@example.org")
	if len(list) != 1 || !list[0].Expires.Equal(t0.Add(time.Hour)) {
		t.Errorf("after the losing mark: %+v, want the first mark kept", list)
	}
	all, err := s.ListOutbox()
	if err != nil || len(all) != 3 {
		t.Errorf("ListOutbox = %d records, %v; want 3", len(all), err)
	}
	// Once the first has expired, an exclusive mark wins again.
	r3 := record(5)
	commit(t, s, []store.Mark{exclusive(mark("alice@example.com", "bob@example.org", "h", t0.Add(time.Hour), time.Hour), r3)}, r3)
	if r3.ID == 0 {
		t.Error("an exclusive mark after the live one expired lost")
	}
	// Two exclusive marks for one key in one commit: the first wins.
	a, c := record(6), record(7)
	m := mark("alice@example.com", "new@example.org", "", t0, time.Hour)
	commit(t, s, []store.Mark{exclusive(m, a), exclusive(m, c)}, a, c)
	if a.ID == 0 || c.ID != 0 {
		t.Errorf("two exclusive marks in one commit: IDs %d, %d; want the first stored only", a.ID, c.ID)
	}
}

// testExclusiveRace has deliveries on every replica commit an exclusive
// mark for one key at once: exactly one reply is stored.
func testExclusiveRace(t *testing.T, b Backend) {
	s := b.New(t)
	states := []store.State{s, b.replica(t, s), b.replica(t, s)}
	for round := range 5 {
		key := fmt.Sprintf("sender%d@example.org", round)
		var (
			wg   sync.WaitGroup
			recs = make([]*store.OutboxRecord, 12)
		)
		for i := range recs {
			recs[i] = record(i)
			st := states[i%len(states)]
			wg.Go(func() {
				m := exclusive(mark("alice@example.com", key, "h", t0, time.Hour), recs[i])
				if err := st.Commit(context.Background(), []store.Mark{m}, []*store.OutboxRecord{recs[i]}); err != nil {
					t.Errorf("Commit: %v", err)
				}
			})
		}
		wg.Wait()
		won := 0
		for _, r := range recs {
			if r.ID != 0 {
				won++
			}
		}
		if won != 1 {
			t.Errorf("round %d: %d of %d racing commits stored their reply, want exactly 1", round, won, len(recs))
		}
	}
	if all, _ := s.ListOutbox(); len(all) != 5 {
		t.Errorf("ListOutbox has %d records after 5 rounds, want 5", len(all))
	}
}

func testCommitInvalid(t *testing.T, b Backend) {
	s := b.New(t)
	good := mark("alice@example.com", "bob@example.org", "", t0, time.Hour)
	for _, tc := range []struct {
		name  string
		marks []store.Mark
		recs  func() []*store.OutboxRecord
	}{
		{"empty user", []store.Mark{good, mark("", "bob@example.org", "", t0, time.Hour)}, nil},
		{"empty sender", []store.Mark{good, mark("alice@example.com", "", "", t0, time.Hour)}, nil},
		{"no recipients", []store.Mark{good}, func() []*store.OutboxRecord { r := record(1); r.To = nil; return []*store.OutboxRecord{r} }},
		{"bad kind", []store.Mark{good}, func() []*store.OutboxRecord { r := record(1); r.Kind = "x"; return []*store.OutboxRecord{r} }},
		{"empty message", []store.Mark{good}, func() []*store.OutboxRecord { r := record(1); r.Message = nil; return []*store.OutboxRecord{r} }},
		{"CRLF in recipient", []store.Mark{good}, func() []*store.OutboxRecord {
			r := record(1)
			r.To = []string{"a@b\r\nRCPT TO:<c@d>"}
			return []*store.OutboxRecord{r}
		}},
		{"reply not committed", []store.Mark{exclusive(good, record(9))}, func() []*store.OutboxRecord { return []*store.OutboxRecord{record(1)} }},
	} {
		var recs []*store.OutboxRecord
		if tc.recs != nil {
			recs = tc.recs()
		}
		if err := s.Commit(context.Background(), tc.marks, recs); !errors.Is(err, store.ErrInvalid) {
			t.Errorf("%s: Commit = %v, want ErrInvalid", tc.name, err)
		}
	}
	if n, _ := s.DedupCount(); n != 0 {
		t.Errorf("failed commits stored %d marks", n)
	}
	if all, _ := s.ListOutbox(); len(all) != 0 {
		t.Errorf("failed commits stored %d records", len(all))
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if err := s.Commit(ctx, []store.Mark{good}, nil); err == nil {
		t.Error("Commit with an ended context succeeded")
	}
	if n, _ := s.DedupCount(); n != 0 {
		t.Error("Commit with an ended context wrote")
	}
}

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

func testScripts(t *testing.T, b Backend) {
	s := b.New(t)
	r := b.replica(t, s)
	const u = "Alice@Example.com"
	if _, err := s.ActiveScript(u); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("ActiveScript with none: %v", err)
	}
	for _, sc := range []struct{ name, src string }{{"vacation", "v1"}, {"filters", "f1"}, {"vacation", "v2"}} {
		if err := s.PutScript(u, sc.name, []byte(sc.src)); err != nil {
			t.Fatal(err)
		}
	}
	if err := s.PutScript("bob@example.com", "vacation", []byte("bob")); err != nil {
		t.Fatal(err)
	}
	if err := s.ActivateScript(u, "missing"); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("activate missing: %v", err)
	}
	if err := r.ActivateScript(u, "vacation"); err != nil {
		t.Fatal(err)
	}
	a, err := s.ActiveScript("alice@example.com")
	if err != nil || a.Name != "vacation" || string(a.Source) != "v2" || !a.Active || a.User != "alice@example.com" || a.Updated.IsZero() {
		t.Errorf("ActiveScript = %+v, %v", a, err)
	}
	list, err := r.ListScripts(u)
	if err != nil || len(list) != 2 || list[0].Name != "filters" || list[0].Active || list[1].Name != "vacation" || !list[1].Active {
		t.Errorf("ListScripts = %+v, %v", list, err)
	}
	if err := s.PutScript(u, "vacation", []byte("v3")); err != nil {
		t.Fatal(err)
	}
	if a, err := r.ActiveScript(u); err != nil || string(a.Source) != "v3" {
		t.Errorf("replacing the active script: %+v, %v; want it active with v3", a, err)
	}
	if err := s.DeleteScript(u, "vacation"); !errors.Is(err, store.ErrActive) {
		t.Errorf("delete active: %v, want ErrActive", err)
	}
	if err := s.ActivateScript(u, "filters"); err != nil {
		t.Fatal(err)
	}
	if err := r.DeleteScript(u, "vacation"); err != nil {
		t.Fatal(err)
	}
	if _, err := s.GetScript(u, "vacation"); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("get deleted: %v", err)
	}
	if err := s.DeleteScript(u, "vacation"); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("delete twice: %v", err)
	}
	if err := s.ActivateScript(u, ""); err != nil {
		t.Fatal(err)
	}
	if _, err := s.ActiveScript(u); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("ActiveScript after deactivate: %v", err)
	}
	if sc, err := s.GetScript("bob@example.com", "vacation"); err != nil || string(sc.Source) != "bob" || sc.Active {
		t.Errorf("bob's script = %+v, %v", sc, err)
	}
	for _, bad := range []struct{ user, name string }{{"", "x"}, {"u", ""}, {"u", "a\nb"}, {"u\x00", "x"}} {
		if err := s.PutScript(bad.user, bad.name, []byte("x")); !errors.Is(err, store.ErrInvalid) {
			t.Errorf("PutScript(%q, %q): %v, want ErrInvalid", bad.user, bad.name, err)
		}
	}
}

func testRenameScript(t *testing.T, b Backend) {
	s := b.New(t)
	r := b.replica(t, s)
	const u = "carol@example.com"
	for _, n := range []string{"a", "b"} {
		if err := s.PutScript(u, n, []byte("src "+n)); err != nil {
			t.Fatal(err)
		}
	}
	if err := s.ActivateScript(u, "a"); err != nil {
		t.Fatal(err)
	}
	before, err := s.GetScript(u, "a")
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		from, to string
		want     error
	}{
		{"missing", "c", store.ErrNotFound},
		{"a", "b", store.ErrExists},
		{"a", "", store.ErrInvalid},
		{"a", "a", nil},
	} {
		if err := s.RenameScript(u, tc.from, tc.to); !errors.Is(err, tc.want) {
			t.Errorf("RenameScript(%q, %q) = %v, want %v", tc.from, tc.to, err, tc.want)
		}
	}
	if err := s.RenameScript(u, "a", "c"); err != nil {
		t.Fatal(err)
	}
	if _, err := r.GetScript(u, "a"); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("old name after rename: %v", err)
	}
	got, err := r.ActiveScript(u)
	if err != nil || got.Name != "c" || string(got.Source) != "src a" || !got.Updated.Equal(before.Updated) {
		t.Errorf("active after rename = %+v, %v; want c with a's source and time", got, err)
	}
	if err := r.RenameScript(u, "b", "d"); err != nil {
		t.Fatal(err)
	}
	if a, _ := s.ActiveScript(u); a.Name != "c" {
		t.Errorf("renaming an inactive script moved the active one to %q", a.Name)
	}
	if list, _ := s.ListScripts(u); len(list) != 2 || list[0].Name != "c" || list[1].Name != "d" {
		t.Errorf("ListScripts after renames = %+v", list)
	}
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
