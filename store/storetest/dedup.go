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
