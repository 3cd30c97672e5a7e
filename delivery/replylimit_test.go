package delivery

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/vacationd/vacationd/internal/peertest"
	"github.com/vacationd/vacationd/metrics"
	"github.com/vacationd/vacationd/store"
	"github.com/vacationd/vacationd/store/postgres"
	"github.com/vacationd/vacationd/vacation"
)

// pgReplicas returns n handles on one fresh PostgreSQL database, as n
// replicas have.
func pgReplicas(t *testing.T, n int) []*postgres.DB {
	t.Helper()
	pg := peertest.StartPostgres(t, 30*time.Second, false)
	url := pg.CreateDB(t)
	var out []*postgres.DB
	for range n {
		db, err := postgres.Open(context.Background(), url, postgres.Options{Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { db.Close() })
		out = append(out, db)
	}
	return out
}

// flakyLimits is a store whose reply limits fail while down is set, as
// a database that does not answer; it counts the calls that reached it.
type flakyLimits struct {
	store.ReplyLimits
	down  atomic.Bool
	calls atomic.Int32
}

var errDown = errors.New("connection refused")

func (f *flakyLimits) AllowReply(ctx context.Context, key string, now time.Time, perAddress, perMinute int) (store.ReplyLimit, int, error) {
	f.calls.Add(1)
	if f.down.Load() {
		return 0, 0, errDown
	}
	return f.ReplyLimits.AllowReply(ctx, key, now, perAddress, perMinute)
}

func (f *flakyLimits) RefundReply(ctx context.Context, key string, now time.Time) error {
	f.calls.Add(1)
	if f.down.Load() {
		return errDown
	}
	return f.ReplyLimits.RefundReply(ctx, key, now)
}

// TestSharedLimitAcrossReplicas: three replicas, each with its own
// process counts, answering senders victim+N@ in turn: together they
// allow sieve_vacation_max_replies_per_address replies, not three times
// as many as RateLimits alone do; a refusal says what a RateLimit says; a
// refund by one replica frees a reply for another.
func TestSharedLimitAcrossReplicas(t *testing.T) {
	dbs := pgReplicas(t, 3)
	var shared, alone []vacation.Limiter
	for _, db := range dbs {
		local := vacation.RateLimit{PerAddress: 3, PerMinute: 100, Counts: vacation.NewRateCounts()}
		shared = append(shared, &SharedLimit{Store: db, Local: local})
		alone = append(alone, vacation.RateLimit{PerAddress: 3, PerMinute: 100, Counts: vacation.NewRateCounts()})
	}
	run := func(lims []vacation.Limiter) (allowed []time.Time, why string) {
		for i := range 12 {
			now := t0.Add(time.Duration(i) * time.Second)
			if ok, w := lims[i%len(lims)].Allow(fmt.Sprintf("Victim+%d@Example.org", i), now); ok {
				allowed = append(allowed, now)
			} else {
				why = w
			}
		}
		return allowed, why
	}
	if got, _ := run(alone); len(got) != 9 {
		t.Fatalf("RateLimits of 3 replicas allowed %d replies, want 9 (the issue this fixes)", len(got))
	}
	got, why := run(shared)
	if len(got) != 3 {
		t.Fatalf("SharedLimits of 3 replicas allowed %d replies, want 3", len(got))
	}
	if want := vacation.AddressLimitWhy(3, "victim@example.org"); why != want {
		t.Errorf("refusal %q, want %q", why, want)
	}
	// The reply replica 0 allowed at got[0] was not queued after all.
	shared[0].(vacation.Refunder).Refund("victim+0@example.org", got[0])
	if ok, why := shared[2].Allow("victim+99@example.org", t0.Add(time.Minute)); !ok {
		t.Errorf("after a refund: refused (%s)", why)
	}
	if ok, _ := shared[1].Allow("victim+100@example.org", t0.Add(time.Minute)); ok {
		t.Error("a fourth reply allowed after one refund")
	}
}

// TestSharedLimitFallback: while the store fails, the replica's own
// counts decide (they hold the replies the store allowed it), the first
// failure is logged once for the burst and every fallback counted; once
// the store answers again it decides, and the end of the burst is logged.
func TestSharedLimitFallback(t *testing.T) {
	db := pgReplicas(t, 1)[0]
	st := &flakyLimits{ReplyLimits: db}
	var logs peertest.SyncBuffer
	fallbacks := metrics.NewCounter(nil, "fallbacks", "", "")
	l := &SharedLimit{Store: st, Local: vacation.RateLimit{PerAddress: 2, Counts: vacation.NewRateCounts()},
		Logger: slog.New(slog.NewTextHandler(&logs, nil)), Fallbacks: fallbacks}
	at := func(s int) time.Time { return t0.Add(time.Duration(s) * time.Second) }
	steps := []struct {
		down bool
		at   int
		to   string
		want bool
	}{
		{false, 0, "victim@example.org", true},   // the store counts 1
		{true, 1, "victim+a@example.org", true},  // the process counts 2
		{true, 2, "victim+b@example.org", false}, // the process refuses
		{true, 3, "other@example.org", true},
		{false, 4, "victim@example.org", true},  // the store counts 2
		{false, 5, "victim@example.org", false}, // the store refuses
	}
	for i, s := range steps {
		st.down.Store(s.down)
		if ok, why := l.Allow(s.to, at(s.at)); ok != s.want {
			t.Errorf("step %d (store down %v): Allow(%s) = %v (%s), want %v", i, s.down, s.to, ok, why, s.want)
		}
		if i == 3 {
			l.Refund("other@example.org", at(3)) // fails too, within the burst
		}
	}
	out := logs.String()
	if n := strings.Count(out, "level=WARN"); n != 1 || !strings.Contains(out, "connection refused") {
		t.Errorf("%d warnings for one burst of failures, want 1 naming the error:\n%s", n, out)
	}
	if !strings.Contains(out, "answers again") || !strings.Contains(out, "failures=4") {
		t.Errorf("end of the burst not logged with its 4 failures:\n%s", out)
	}
	if n := fallbacks.Value(""); n != 3 {
		t.Errorf("fallbacks = %d, want 3", n)
	}
	// With both limits off the store is not asked.
	calls := st.calls.Load()
	off := &SharedLimit{Store: st, Local: vacation.RateLimit{Counts: vacation.NewRateCounts()}}
	for i := range 5 {
		if ok, _ := off.Allow("victim@example.org", at(10+i)); !ok {
			t.Errorf("limits off: reply %d refused", i)
		}
	}
	off.Refund("victim@example.org", at(10))
	if n := st.calls.Load() - calls; n != 0 {
		t.Errorf("limits off: %d calls to the store", n)
	}
}
