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

// TestAllowReplyEndsWithContext: a call waiting for the per-minute lock
// (here held by another session) ends with its context, well before the
// handle's own timeout, so a delivery falls back instead of waiting; and
// it counted nothing.
func TestAllowReplyEndsWithContext(t *testing.T) {
	pg := peertest.StartPostgres(t, 30*time.Second, false)
	url := pg.CreateDB(t)
	db, err := Open(context.Background(), url, Options{OpTimeout: 5 * time.Minute})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	ctx := context.Background()
	conn, err := db.pool.Acquire(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Release()
	if _, err := conn.Exec(ctx, `SELECT pg_advisory_lock($1::int, 0)`, replyMinuteLock); err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() {
		ctx, cancel := context.WithTimeout(ctx, 200*time.Millisecond)
		defer cancel()
		_, _, err := db.AllowReply(ctx, "victim@example.org", time.Now(), 10, 1000)
		done <- err
	}()
	select {
	case err := <-done:
		if err == nil {
			t.Error("AllowReply succeeded while the lock was held")
		}
	case <-time.After(time.Minute):
		t.Fatal("AllowReply still waiting a minute after its context ended")
	}
	if _, err := conn.Exec(ctx, `SELECT pg_advisory_unlock($1::int, 0)`, replyMinuteLock); err != nil {
		t.Fatal(err)
	}
	var n int
	if err := db.pool.QueryRow(ctx, `SELECT count(*) FROM reply_limits`).Scan(&n); err != nil || n != 0 {
		t.Errorf("%d rows, %v after a call that ended with its context; want none", n, err)
	}
	// The lock timeout and the asynchronous commit are the call's own:
	// the connection, back in the pool, waits for locks as long as any
	// other and commits durably (a Commit's marks and outbox).
	one := open(t, url+"&pool_max_conns=1")
	if _, _, err := one.AllowReply(ctx, "victim@example.org", time.Now(), 10, 1000); err != nil {
		t.Fatal(err)
	}
	var lt string
	if err := one.pool.QueryRow(ctx, `SHOW lock_timeout`).Scan(&lt); err != nil || lt != "0" {
		t.Errorf("lock_timeout %q, %v after AllowReply; want 0, the default", lt, err)
	}
	var sc string
	if err := one.pool.QueryRow(ctx, `SHOW synchronous_commit`).Scan(&sc); err != nil || sc != "on" {
		t.Errorf("synchronous_commit %q, %v after AllowReply; want on, the default", sc, err)
	}
}
