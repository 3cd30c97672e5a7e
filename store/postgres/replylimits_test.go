package postgres

import (
	"context"
	"fmt"
	"sync/atomic"
	"testing"
	"time"

	"github.com/vacationd/vacationd/internal/peertest"
	"github.com/vacationd/vacationd/store"
)

// TestReplyLimitsSwept: rows an hour old are deleted by a later call, so
// the table holds at most an hour of replies.
func TestReplyLimitsSwept(t *testing.T) {
	pg := peertest.StartPostgres(t, 30*time.Second, false)
	db := open(t, pg.CreateDB(t))
	ctx := context.Background()
	t0 := time.Date(2026, 7, 1, 12, 0, 0, 0, time.UTC)
	rows := func() int {
		var n int
		if err := db.pool.QueryRow(ctx, `SELECT count(*) FROM reply_limits`).Scan(&n); err != nil {
			t.Fatal(err)
		}
		return n
	}
	for i := range 20 {
		if hit, _, err := db.AllowReply(ctx, "victim@example.org", t0.Add(time.Duration(i)*time.Second), 0, 1000); err != nil || hit != store.ReplyAllowed {
			t.Fatalf("AllowReply %d: %v %v", i, hit, err)
		}
	}
	if n := rows(); n != 20 {
		t.Fatalf("%d rows after 20 replies, want 20", n)
	}
	// Half of them an hour old.
	if _, _, err := db.AllowReply(ctx, "other@example.org", t0.Add(time.Hour+10*time.Second), 0, 1000); err != nil {
		t.Fatal(err)
	}
	if n := rows(); n != 10 {
		t.Errorf("%d rows after a call an hour and 10s later, want the 9 younger than an hour and the new one", n)
	}
	// Not again within the minute.
	if _, _, err := db.AllowReply(ctx, "other@example.org", t0.Add(time.Hour+30*time.Second), 0, 1000); err != nil {
		t.Fatal(err)
	}
	if n := rows(); n != 11 {
		t.Errorf("%d rows after a call 20s after the sweep, want 11 (no sweep)", n)
	}
	if _, _, err := db.AllowReply(ctx, "other@example.org", t0.Add(2*time.Hour), 0, 1000); err != nil {
		t.Fatal(err)
	}
	if n := rows(); n != 3 {
		t.Errorf("%d rows two hours later, want 3", n)
	}
}

// BenchmarkAllowReply: replies to distinct addresses from parallel
// deliveries, with the per-minute limit on (every call takes its lock)
// and off (calls for different addresses do not wait for each other).
func BenchmarkAllowReply(b *testing.B) {
	pg := peertest.StartPostgres(b, 30*time.Second, false)
	db, err := Open(context.Background(), pg.CreateDB(b), Options{})
	if err != nil {
		b.Fatal(err)
	}
	defer db.Close()
	for _, perMinute := range []int{0, 1000, 1 << 30} {
		b.Run(fmt.Sprintf("perMinute=%d", perMinute), func(b *testing.B) {
			var n atomic.Int64
			now := time.Now()
			b.SetParallelism(8)
			b.RunParallel(func(pb *testing.PB) {
				for pb.Next() {
					i := n.Add(1)
					if _, _, err := db.AllowReply(context.Background(), fmt.Sprintf("s%d@example.org", i), now.Add(time.Duration(i)), 10, perMinute); err != nil {
						b.Error(err)
						return
					}
				}
			})
		})
	}
}
