package store

import (
	"context"
	"errors"
	"reflect"
	"strings"
	"sync"
	"testing"
	"time"
)

func TestCommitRoundTrip(t *testing.T) {
	db := openTest(t)
	ctx := context.Background()
	recs := []*OutboxRecord{
		{From: "", To: []string{"bob@example.org"}, Message: []byte("Subject: away\r\n\r\nbody\r\n"),
			Kind: KindVacation, User: "alice@example.com", Queued: t0, NextAttempt: t0},
		{From: "carol@example.org", To: []string{"x@example.net", "y@example.net"}, Message: []byte("M\x00\xff binary ok"),
			Kind: KindRedirect, User: "dave@example.com", Queued: t0.Add(time.Second), NextAttempt: t0.Add(time.Minute),
			Attempts: 2, LastError: "451 try later"},
	}
	marks := []Mark{mark("alice@example.com", "bob@example.org", "h", t0, time.Hour)}
	if err := db.Commit(ctx, marks, recs); err != nil {
		t.Fatal(err)
	}
	if recs[0].ID == 0 || recs[1].ID <= recs[0].ID {
		t.Fatalf("IDs not assigned in order: %d, %d", recs[0].ID, recs[1].ID)
	}
	got, err := db.ListOutbox()
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 2 {
		t.Fatalf("ListOutbox: %d records, want 2", len(got))
	}
	for i := range got {
		if !sameRecord(got[i], *recs[i]) {
			t.Errorf("record %d:\n got %+v\nwant %+v", i, got[i], *recs[i])
		}
		one, err := db.Get(recs[i].ID)
		if err != nil || !sameRecord(one, *recs[i]) {
			t.Errorf("Get(%d) = %+v, %v", recs[i].ID, one, err)
		}
	}
	if seen, err := db.Seen(ctx, marks[0].Key, t0); err != nil || !seen {
		t.Errorf("mark not seen: %v %v", seen, err)
	}
	if _, err := db.Get(999); !errors.Is(err, ErrNotFound) {
		t.Errorf("Get(999) err = %v, want ErrNotFound", err)
	}
}

func TestCommitDefaults(t *testing.T) {
	db := openTest(t)
	r := testRecord(1)
	r.Queued = time.Time{}
	before := time.Now()
	if err := db.Commit(context.Background(), nil, []*OutboxRecord{r}); err != nil {
		t.Fatal(err)
	}
	got, err := db.Get(r.ID)
	if err != nil {
		t.Fatal(err)
	}
	if got.Queued.Before(before) || !got.NextAttempt.Equal(got.Queued) {
		t.Errorf("Queued %v NextAttempt %v; want now and equal", got.Queued, got.NextAttempt)
	}
}

func TestCommitInvalid(t *testing.T) {
	db := openTest(t)
	tests := []struct {
		name string
		mod  func(*OutboxRecord)
		want string
	}{
		{"kind", func(r *OutboxRecord) { r.Kind = "bounce" }, "kind"},
		{"no recipients", func(r *OutboxRecord) { r.To = nil }, "no recipients"},
		{"empty recipient", func(r *OutboxRecord) { r.To = []string{""} }, "bad recipient"},
		{"CRLF recipient", func(r *OutboxRecord) { r.To = []string{"a@x\r\nRCPT TO:<b@x>"} }, "bad recipient"},
		{"CRLF sender", func(r *OutboxRecord) { r.From = "a@x\r\n" }, "bad sender"},
		{"empty message", func(r *OutboxRecord) { r.Message = nil }, "empty message"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			good, bad := testRecord(1), testRecord(2)
			tt.mod(bad)
			err := db.Commit(context.Background(), []Mark{mark("u@x", "s@x", tt.name, t0, time.Hour)}, []*OutboxRecord{good, bad})
			if !errors.Is(err, ErrInvalid) || !strings.Contains(err.Error(), "record 1") || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("err = %v, want ErrInvalid naming record 1 and %q", err, tt.want)
			}
			if recs, _ := db.ListOutbox(); len(recs) != 0 {
				t.Errorf("invalid commit stored %d records", len(recs))
			}
			if seen, _ := db.Seen(context.Background(), DedupKey{"u@x", "s@x", tt.name}, t0); seen {
				t.Error("invalid commit stored its mark")
			}
		})
	}
}

// TestCommitKinds: every kind the pipeline queues is stored.
func TestCommitKinds(t *testing.T) {
	db := openTest(t)
	for i, k := range []string{KindVacation, KindRedirect, KindSubmission, KindNotify, KindReport} {
		r := testRecord(i)
		r.Kind = k
		if err := db.Commit(context.Background(), nil, []*OutboxRecord{r}); err != nil {
			t.Errorf("kind %s: %v", k, err)
		}
	}
}

func TestDue(t *testing.T) {
	db := openTest(t)
	ctx := context.Background()
	// Committed out of schedule order: Due sorts by NextAttempt, then ID.
	offsets := []time.Duration{3 * time.Minute, time.Minute, 0, time.Minute, time.Hour}
	var recs []*OutboxRecord
	for i, off := range offsets {
		r := testRecord(i)
		r.NextAttempt = t0.Add(off)
		recs = append(recs, r)
	}
	if err := db.Commit(ctx, nil, recs); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		now   time.Time
		limit int
		want  []int // indexes into recs
	}{
		{t0.Add(-time.Second), 0, nil},
		{t0, 0, []int{2}},
		{t0.Add(time.Minute), 0, []int{2, 1, 3}},
		{t0.Add(time.Minute), 2, []int{2, 1}},
		{t0.Add(24 * time.Hour), 0, []int{2, 1, 3, 0, 4}},
	}
	for _, tt := range tests {
		got, err := db.Due(tt.now, tt.limit)
		if err != nil {
			t.Fatal(err)
		}
		if ids(got) == nil && tt.want == nil {
			continue
		}
		if want := pick(recs, tt.want); !reflect.DeepEqual(ids(got), want) {
			t.Errorf("Due(%v, %d) = %v, want %v", tt.now.Sub(t0), tt.limit, ids(got), want)
		}
	}
	next, ok, err := db.NextDue(context.Background())
	if err != nil || !ok || !next.Equal(t0) {
		t.Errorf("NextDue = %v, %v, %v; want t0", next, ok, err)
	}

	// Claims and leases: the contract suite (storetest).
}

func TestDoneRetryDrop(t *testing.T) {
	db := openTest(t)
	ctx := context.Background()
	recs := []*OutboxRecord{testRecord(0), testRecord(1), testRecord(2), testRecord(3)}
	if err := db.Commit(ctx, nil, recs); err != nil {
		t.Fatal(err)
	}
	if _, err := db.Claim(context.Background(), t0, 0, 0); err != nil {
		t.Fatal(err)
	}
	if err := db.Done(recs[0].ID); err != nil {
		t.Fatal(err)
	}
	if err := db.Done(recs[0].ID); !errors.Is(err, ErrNotFound) {
		t.Errorf("second Done err = %v, want ErrNotFound", err)
	}
	if err := db.Retry(recs[1].ID, t0.Add(time.Minute), "452 4.3.1 full"); err != nil {
		t.Fatal(err)
	}
	if err := db.Retry(recs[1].ID, t0.Add(2*time.Minute), "421 bye"); err != nil {
		t.Fatal(err)
	}
	if err := db.Drop(recs[2].ID, "550 5.1.1 no such user"); err != nil {
		t.Fatal(err)
	}
	if err := db.Reschedule(recs[3].ID, t0.Add(-time.Hour)); err != nil {
		t.Fatal(err)
	}
	if err := db.Retry(999, t0, "x"); !errors.Is(err, ErrNotFound) {
		t.Errorf("Retry(999) err = %v, want ErrNotFound", err)
	}
	if db.Leased() != 0 {
		t.Errorf("Leased = %d after Done/Retry/Drop/Reschedule, want 0", db.Leased())
	}
	got, err := db.ListOutbox()
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(ids(got), []uint64{recs[1].ID, recs[3].ID}) {
		t.Fatalf("ListOutbox = %v", ids(got))
	}
	if r := got[0]; r.Attempts != 2 || r.LastError != "421 bye" || !r.NextAttempt.Equal(t0.Add(2*time.Minute)) {
		t.Errorf("retried record = %+v", r)
	}
	if r := got[1]; r.Attempts != 0 || !r.NextAttempt.Equal(t0.Add(-time.Hour)) {
		t.Errorf("rescheduled record = %+v", r)
	}
	due, _ := db.Due(t0.Add(time.Minute), 0)
	if !reflect.DeepEqual(ids(due), []uint64{recs[3].ID}) {
		t.Errorf("Due after retry = %v", ids(due))
	}
	dropped, err := db.ListDropped()
	if err != nil {
		t.Fatal(err)
	}
	if len(dropped) != 1 || dropped[0].Reason != "550 5.1.1 no such user" || dropped[0].Record.ID != recs[2].ID ||
		dropped[0].Record.To[0] != recs[2].To[0] || dropped[0].Record.Message != nil || dropped[0].Dropped.IsZero() {
		t.Errorf("ListDropped = %+v", dropped)
	}
}

func TestDroppedBounded(t *testing.T) {
	db := openTest(t)
	ctx := context.Background()
	const n = maxDropped + 3
	recs := make([]*OutboxRecord, n)
	for i := range recs {
		recs[i] = testRecord(i)
	}
	if err := db.Commit(ctx, nil, recs); err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	for _, r := range recs {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if err := db.Drop(r.ID, "test"); err != nil {
				t.Error(err)
			}
		}()
	}
	wg.Wait()
	dropped, err := db.ListDropped()
	if err != nil {
		t.Fatal(err)
	}
	if len(dropped) != maxDropped || dropped[0].Record.ID != recs[3].ID {
		t.Errorf("kept %d dropped records starting at %d; want %d from %d", len(dropped), dropped[0].Record.ID, maxDropped, recs[3].ID)
	}
}

func TestOutboxStats(t *testing.T) {
	db := openTest(t)
	depth, oldest, err := db.OutboxStats(t0)
	if err != nil || depth != 0 || oldest != 0 {
		t.Fatalf("empty: %d, %v, %v", depth, oldest, err)
	}
	a, b := testRecord(0), testRecord(1)
	a.Queued, b.Queued = t0.Add(-time.Hour), t0.Add(-time.Minute)
	if err := db.Commit(context.Background(), nil, []*OutboxRecord{a, b}); err != nil {
		t.Fatal(err)
	}
	depth, oldest, err = db.OutboxStats(t0)
	if err != nil || depth != 2 || oldest != time.Hour {
		t.Errorf("OutboxStats = %d, %v, %v; want 2, 1h", depth, oldest, err)
	}
	if err := db.Done(a.ID); err != nil {
		t.Fatal(err)
	}
	depth, oldest, _ = db.OutboxStats(t0)
	if depth != 1 || oldest != time.Minute {
		t.Errorf("after Done: %d, %v; want 1, 1m", depth, oldest)
	}
}

func TestQueuedSignal(t *testing.T) {
	db := openTest(t)
	ctx := context.Background()
	if err := db.Commit(ctx, []Mark{mark("u@x", "s@x", "", t0, time.Hour)}, nil); err != nil {
		t.Fatal(err)
	}
	select {
	case <-db.Queued():
		t.Fatal("signal after a commit without records")
	default:
	}
	for i := range 3 {
		if err := db.Commit(ctx, nil, []*OutboxRecord{testRecord(i)}); err != nil {
			t.Fatal(err)
		}
	}
	select {
	case <-db.Queued():
	default:
		t.Fatal("no signal after commits with records")
	}
	select {
	case <-db.Queued():
		t.Fatal("signals did not coalesce")
	default:
	}
}

// TestClaimConcurrent has workers claim and finish records concurrently;
// every record must be handled exactly once.
func TestClaimConcurrent(t *testing.T) {
	db := openTest(t)
	const n = 300
	recs := make([]*OutboxRecord, n)
	for i := range recs {
		recs[i] = testRecord(i)
	}
	if err := db.Commit(context.Background(), nil, recs); err != nil {
		t.Fatal(err)
	}
	var (
		mu   sync.Mutex
		seen = map[uint64]int{}
		wg   sync.WaitGroup
	)
	for range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				got, err := db.Claim(context.Background(), t0, 3, 0)
				if err != nil {
					t.Error(err)
					return
				}
				if len(got) == 0 {
					return
				}
				for _, r := range got {
					mu.Lock()
					seen[r.ID]++
					mu.Unlock()
					if err := db.Done(r.ID); err != nil {
						t.Error(err)
					}
				}
			}
		}()
	}
	wg.Wait()
	if len(seen) != n {
		t.Errorf("%d records handled, want %d", len(seen), n)
	}
	for id, c := range seen {
		if c != 1 {
			t.Errorf("record %d claimed %d times", id, c)
		}
	}
}

func sameRecord(a, b OutboxRecord) bool {
	return a.ID == b.ID && a.From == b.From && reflect.DeepEqual(a.To, b.To) && string(a.Message) == string(b.Message) &&
		a.Kind == b.Kind && a.User == b.User && a.Attempts == b.Attempts && a.Queued.Equal(b.Queued) &&
		a.NextAttempt.Equal(b.NextAttempt) && a.LastError == b.LastError
}

func ids(recs []OutboxRecord) []uint64 {
	var out []uint64
	for _, r := range recs {
		out = append(out, r.ID)
	}
	return out
}

func pick(recs []*OutboxRecord, idx []int) []uint64 {
	var out []uint64
	for _, i := range idx {
		out = append(out, recs[i].ID)
	}
	return out
}
