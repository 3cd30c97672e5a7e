package store

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"testing"
	"time"

	bolt "go.etcd.io/bbolt"
)

func mark(user, sender, handle string, created time.Time, period time.Duration) Mark {
	return Mark{Key: DedupKey{user, sender, handle}, Created: created, Expires: created.Add(period)}
}

func TestSeen(t *testing.T) {
	db := openTest(t)
	ctx := context.Background()
	day := 24 * time.Hour
	marks := []Mark{
		mark("alice@example.com", "Bob@Example.ORG", "h1", t0, 7*day),
		mark("alice@example.com", "carol@example.org", "", t0, day),
		mark("dave@example.com", "bob@example.org", "h1", t0, time.Second),
	}
	if err := db.Commit(ctx, marks, nil); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name string
		key  DedupKey
		now  time.Time
		want bool
	}{
		{"exact", DedupKey{"alice@example.com", "bob@example.org", "h1"}, t0, true},
		{"sender case folded", DedupKey{"alice@example.com", "BOB@example.org", "h1"}, t0, true},
		{"user case folded", DedupKey{"Alice@Example.com", "bob@example.org", "h1"}, t0, true},
		{"handle is exact", DedupKey{"alice@example.com", "bob@example.org", "H1"}, t0, false},
		{"other handle", DedupKey{"alice@example.com", "bob@example.org", "h2"}, t0, false},
		{"empty handle", DedupKey{"alice@example.com", "carol@example.org", ""}, t0, true},
		{"other user", DedupKey{"eve@example.com", "bob@example.org", "h1"}, t0, false},
		{"just before expiry", DedupKey{"alice@example.com", "bob@example.org", "h1"}, t0.Add(7*day - 1), true},
		{"at expiry", DedupKey{"alice@example.com", "bob@example.org", "h1"}, t0.Add(7 * day), false},
		{"after expiry", DedupKey{"dave@example.com", "bob@example.org", "h1"}, t0.Add(2 * time.Second), false},
		{"no prefix confusion", DedupKey{"alice@example.co", "m\x01", "h1"}, t0, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := db.Seen(ctx, tt.key, tt.now)
			if err != nil {
				t.Fatal(err)
			}
			if got != tt.want {
				t.Errorf("Seen(%+v, %v) = %v, want %v", tt.key, tt.now, got, tt.want)
			}
		})
	}
}

func TestDedupInvalid(t *testing.T) {
	db := openTest(t)
	ctx := context.Background()
	tests := []struct {
		name string
		key  DedupKey
		want string
	}{
		{"empty user", DedupKey{"", "b@x", "h"}, "empty user"},
		{"empty sender", DedupKey{"a@x", "", "h"}, "empty sender"},
		{"NUL", DedupKey{"a\x00@x", "b@x", "h"}, "NUL"},
		{"huge handle", DedupKey{"a@x", "b@x", strings.Repeat("h", 40000)}, "limit"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := db.Seen(ctx, tt.key, t0)
			if !errors.Is(err, ErrInvalid) || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("Seen: err = %v, want ErrInvalid mentioning %q", err, tt.want)
			}
			err = db.Commit(ctx, []Mark{{Key: tt.key, Expires: t0}}, nil)
			if !errors.Is(err, ErrInvalid) || !strings.Contains(err.Error(), "mark 0") {
				t.Errorf("Commit: err = %v, want ErrInvalid naming mark 0", err)
			}
		})
	}
}

func TestMarkReplaces(t *testing.T) {
	db := openTest(t)
	ctx := context.Background()
	k := DedupKey{"alice@example.com", "bob@example.org", "h"}
	if err := db.Commit(ctx, []Mark{{Key: k, Created: t0, Expires: t0.Add(time.Hour)}}, nil); err != nil {
		t.Fatal(err)
	}
	// A later reply extends the period; the old expiry entry must not
	// let Sweep delete the renewed record.
	if err := db.Commit(ctx, []Mark{{Key: k, Created: t0.Add(time.Hour), Expires: t0.Add(3 * time.Hour)}}, nil); err != nil {
		t.Fatal(err)
	}
	n, err := db.Sweep(t0.Add(2 * time.Hour))
	if err != nil || n != 0 {
		t.Fatalf("Sweep = %d, %v; want 0, nil", n, err)
	}
	if seen, _ := db.Seen(ctx, k, t0.Add(2*time.Hour)); !seen {
		t.Error("renewed record not seen")
	}
	recs, err := db.ListDedup("alice@example.com", "")
	if err != nil || len(recs) != 1 || !recs[0].Expires.Equal(t0.Add(3*time.Hour)) || !recs[0].Created.Equal(t0.Add(time.Hour)) {
		t.Fatalf("ListDedup = %+v, %v", recs, err)
	}
	if n := indexLen(t, db); n != 1 {
		t.Errorf("expiry index has %d entries, want 1", n)
	}
}

func TestListForgetDedup(t *testing.T) {
	db := openTest(t)
	ctx := context.Background()
	var marks []Mark
	for _, s := range []string{"bob@example.org", "carol@example.org"} {
		for _, h := range []string{"h1", "h2"} {
			marks = append(marks, mark("alice@example.com", s, h, t0, time.Hour))
		}
	}
	marks = append(marks, mark("alice@example.comx", "bob@example.org", "h1", t0, time.Hour))
	marks = append(marks, mark("alice@example.com", "bob@example.orgx", "h1", t0, time.Hour))
	if err := db.Commit(ctx, marks, nil); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		user, sender string
		want         int
	}{
		{"alice@example.com", "", 5},
		{"ALICE@example.com", "Bob@Example.org", 2},
		{"alice@example.com", "carol@example.org", 2},
		{"alice@example.com", "nobody@example.org", 0},
		{"alice@example.comx", "", 1},
		{"nobody", "", 0},
	}
	for _, tt := range tests {
		recs, err := db.ListDedup(tt.user, tt.sender)
		if err != nil {
			t.Fatal(err)
		}
		if len(recs) != tt.want {
			t.Errorf("ListDedup(%q, %q) = %d records, want %d: %+v", tt.user, tt.sender, len(recs), tt.want, recs)
		}
		for _, r := range recs {
			if r.Key.User != strings.ToLower(tt.user) || (tt.sender != "" && r.Key.Sender != strings.ToLower(tt.sender)) ||
				!r.Created.Equal(t0) || !r.Expires.Equal(t0.Add(time.Hour)) {
				t.Errorf("ListDedup(%q, %q): bad record %+v", tt.user, tt.sender, r)
			}
		}
	}
	n, err := db.ForgetDedup("alice@example.com", "BOB@example.org")
	if err != nil || n != 2 {
		t.Fatalf("ForgetDedup(sender) = %d, %v; want 2", n, err)
	}
	if seen, _ := db.Seen(ctx, DedupKey{"alice@example.com", "bob@example.org", "h1"}, t0); seen {
		t.Error("forgotten record still seen")
	}
	if seen, _ := db.Seen(ctx, DedupKey{"alice@example.com", "bob@example.orgx", "h1"}, t0); !seen {
		t.Error("forget of bob@example.org removed bob@example.orgx")
	}
	n, err = db.ForgetDedup("alice@example.com", "")
	if err != nil || n != 3 {
		t.Fatalf("ForgetDedup(all) = %d, %v; want 3", n, err)
	}
	if n := indexLen(t, db); n != 1 {
		t.Errorf("expiry index has %d entries after forget, want 1", n)
	}
	if _, err := db.ListDedup("", ""); !errors.Is(err, ErrInvalid) {
		t.Errorf("ListDedup(\"\") err = %v, want ErrInvalid", err)
	}
}

func TestSweep(t *testing.T) {
	tests := []struct {
		name    string
		periods []time.Duration // one mark each, created at t0
		now     time.Time
		want    int
	}{
		{"empty", nil, t0, 0},
		{"nothing expired", []time.Duration{time.Hour, 2 * time.Hour}, t0, 0},
		{"some expired", []time.Duration{time.Second, time.Minute, time.Hour}, t0.Add(time.Minute), 2},
		{"all expired", []time.Duration{time.Second, time.Minute}, t0.Add(time.Hour), 2},
		{"more than a chunk", repeat(time.Second, sweepChunk+5), t0.Add(time.Hour), sweepChunk + 5},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			db := openTest(t)
			ctx := context.Background()
			var marks []Mark
			for i, p := range tt.periods {
				marks = append(marks, mark("u@x", "s@x", "h"+strconv.Itoa(i), t0, p))
			}
			if err := db.Commit(ctx, marks, nil); err != nil {
				t.Fatal(err)
			}
			n, err := db.Sweep(tt.now)
			if err != nil || n != tt.want {
				t.Fatalf("Sweep = %d, %v; want %d", n, err, tt.want)
			}
			left, err := db.ListDedup("u@x", "")
			if err != nil {
				t.Fatal(err)
			}
			if len(left) != len(tt.periods)-tt.want {
				t.Errorf("%d records left, want %d", len(left), len(tt.periods)-tt.want)
			}
			for _, r := range left {
				if !tt.now.Before(r.Expires) {
					t.Errorf("expired record left: %+v", r)
				}
			}
			if n := indexLen(t, db); n != len(left) {
				t.Errorf("expiry index has %d entries, want %d", n, len(left))
			}
			if c, err := db.DedupCount(); err != nil || c != len(left) {
				t.Errorf("DedupCount = %d, %v; want %d", c, err, len(left))
			}
			if n, err := db.Sweep(tt.now); err != nil || n != 0 {
				t.Errorf("second Sweep = %d, %v; want 0", n, err)
			}
		})
	}
}

func TestRunSweeper(t *testing.T) {
	db := openTest(t)
	ctx, cancel := context.WithCancel(context.Background())
	if err := db.Commit(ctx, []Mark{mark("u@x", "s@x", "", t0, time.Second)}, nil); err != nil {
		t.Fatal(err)
	}
	done := make(chan struct{})
	go func() {
		db.RunSweeper(ctx, time.Millisecond, func() time.Time { return t0.Add(time.Hour) })
		close(done)
	}()
	for {
		recs, err := db.ListDedup("u@x", "")
		if err != nil {
			t.Fatal(err)
		}
		if len(recs) == 0 {
			break
		}
		time.Sleep(time.Millisecond)
	}
	cancel()
	<-done
}

func repeat(d time.Duration, n int) []time.Duration {
	out := make([]time.Duration, n)
	for i := range out {
		out[i] = d
	}
	return out
}

// TestSweepBoundsFile fills and sweeps the dedup records several times:
// freed pages must be reused, so the high-water mark of the file (bbolt's
// Tx.Size, which the file size follows in AllocSize steps) stops growing.
// Without the sweep it would grow by the same amount every cycle.
func TestSweepBoundsFile(t *testing.T) {
	db := openTest(t)
	ctx := context.Background()
	hwm := func() int64 {
		var n int64
		if err := db.view(func(tx *bolt.Tx) error { n = tx.Size(); return nil }); err != nil {
			t.Fatal(err)
		}
		return n
	}
	var sizes []int64
	for cycle := range 5 {
		start := t0.Add(time.Duration(cycle) * time.Hour)
		var marks []Mark
		for j := range 3000 {
			marks = append(marks, mark("u@x", fmt.Sprintf("sender%d-%d@example.org", cycle, j), "h", start, time.Minute))
		}
		if err := db.Commit(ctx, marks, nil); err != nil {
			t.Fatal(err)
		}
		if n, err := db.Sweep(start.Add(time.Hour)); err != nil || n != len(marks) {
			t.Fatalf("cycle %d: Sweep = %d, %v", cycle, n, err)
		}
		sizes = append(sizes, hwm())
	}
	if sizes[len(sizes)-1] > sizes[1] {
		t.Errorf("file keeps growing across fill/sweep cycles: %v", sizes)
	}
}
