package delivery

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/vacationd/vacationd/sieve"
	"github.com/vacationd/vacationd/store"
	"github.com/vacationd/vacationd/transport"
	"github.com/vacationd/vacationd/vacation"
)

// failingDedup is a vacation.Dedup whose store does not answer.
type failingDedup struct{}

func (failingDedup) Seen(context.Context, vacation.Key, time.Time) (bool, error) {
	return false, errors.New("database not answering")
}

func (failingDedup) Mark(context.Context, vacation.Key, time.Time, time.Time) error {
	return errors.New("database not answering")
}

// A vacation whose duplicate check fails must not be acknowledged: a 250
// would consume the message (sidecar mode) and lose the reply for good.
func TestDedupFailureIsTemporary(t *testing.T) {
	f := newFixture(t, map[string]string{"example.com/bob.sieve": vacationScript}, nil)
	now := func() time.Time { return t0 }
	svc, err := New(Config{
		Source: DirSource(f.scripts), RecipientDelimiter: "+", Store: f.db, Compiler: NewCompiler(sieve.Options{Extensions: "+vacation-seconds"}, nil),
		Responder: &vacation.Responder{Settings: vacation.DefaultSettings(), Dedup: failingDedup{}, Now: now, Hostname: "mx.example.com"},
		Hostname:  "mx.example.com", Logger: slog.New(slog.NewTextHandler(io.Discard, nil)), Now: now,
	})
	if err != nil {
		t.Fatal(err)
	}
	f.svc = svc
	st := f.deliver(t, "alice@example.org", "bob@example.com", "carol@example.com")
	if len(st) != 2 || !st[0].Temporary() {
		t.Fatalf("bob's status = %v, want a temporary failure", st)
	}
	if !st[1].OK() {
		t.Errorf("carol (no script) status = %v, want 250", st[1])
	}
	if n := len(f.outbox(t)); n != 0 {
		t.Errorf("outbox has %d records, want 0", n)
	}
}

// A duplicate test that cannot read the store is a temporary failure too:
// the run would otherwise end in a runtime error and an implicit keep that
// drops the script's other actions (its vacation) for good.
func TestDuplicateStoreFailureIsTemporary(t *testing.T) {
	script := "require [\"duplicate\", \"vacation\"];\nif duplicate { discard; stop; }\nvacation :days 3 \"I am away\";\n"
	f := newFixture(t, map[string]string{"example.com/bob.sieve": script}, nil)
	f.db.Close()
	st := f.deliver(t, "alice@example.org", "bob@example.com", "carol@example.com")
	if len(st) != 2 || !st[0].Temporary() {
		t.Fatalf("bob's status = %v, want a temporary failure", st)
	}
	if !st[1].OK() {
		t.Errorf("carol (no script) status = %v, want 250", st[1])
	}
}

// lockedWriter is an io.Writer safe for concurrent loggers.
type lockedWriter struct {
	mu sync.Mutex
	b  strings.Builder
}

func (w *lockedWriter) Write(p []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.b.Write(p)
}

func (w *lockedWriter) String() string {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.b.String()
}

// A broken script is logged once per change even when many sessions are
// the first to load it at the same time.
func TestBrokenScriptLoggedOnceUnderConcurrency(t *testing.T) {
	for round := range 20 {
		var logs lockedWriter
		f := newFixture(t, map[string]string{"example.com/bob.sieve": "discard\n"}, nil)
		f.svc.cfg.Compiler.log = slog.New(slog.NewTextHandler(&logs, nil))
		var wg sync.WaitGroup
		start := make(chan struct{})
		for i := range 16 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				<-start
				// Distinct senders: no per-sender lock serializes the loads.
				f.svc.Deliver(context.Background(), &transport.Envelope{From: fmt.Sprintf("alice%d@example.org", i),
					Recipients: []transport.Recipient{{Addr: "bob@example.com"}}}, []byte(testMsg))
			}()
		}
		close(start)
		wg.Wait()
		if n := strings.Count(logs.String(), "does not compile"); n != 1 {
			t.Fatalf("round %d: compile error logged %d times, want once:\n%s", round, n, logs.String())
		}
	}
}

// fileinto with --fileinto-detail on a recipient that already has a
// detail replaces it: Dovecot reads bob+x+Work as mailbox "x+Work".
func TestFileintoDetailReplacesTheRecipientsDetail(t *testing.T) {
	down := &fakeDown{}
	f := newFixture(t, map[string]string{"example.com/bob.sieve": "require \"fileinto\";\nfileinto \"Work\";\n"}, down)
	f.svc.cfg.FileintoDetail = true
	st := f.deliver(t, "alice@example.org", "Bob+lists@example.com")
	if !st[0].OK() {
		t.Fatalf("status = %v", st)
	}
	if want := "[Bob+Work@example.com]"; fmt.Sprint(down.got) != want {
		t.Errorf("deliveries = %v, want %s", down.got, want)
	}
}

// okDedup is a vacation.Dedup that has seen nothing.
type okDedup struct{}

func (okDedup) Seen(context.Context, vacation.Key, time.Time) (bool, error)    { return false, nil }
func (okDedup) Mark(context.Context, vacation.Key, time.Time, time.Time) error { return nil }

// A reply is counted (decision "queued") only once it is
// stored: a commit that fails answers 451 and the retry decides again.
//
// It is logged as counted, an error: the recipient line said
// vacation=queued beside its 451 while nothing was queued.
func TestReplyCountedOnlyWhenStored(t *testing.T) {
	f := newFixture(t, map[string]string{"example.com/bob.sieve": vacationScript}, nil)
	now := func() time.Time { return t0 }
	m := NewMetrics(nil)
	var logs strings.Builder
	svc, err := New(Config{
		Source: DirSource(f.scripts), Store: f.db, Metrics: m,
		Responder: &vacation.Responder{Settings: vacation.DefaultSettings(), Dedup: okDedup{}, Now: now, Hostname: "mx.example.com"},
		Hostname:  "mx.example.com", Logger: slog.New(slog.NewTextHandler(&logs, nil)), Now: now,
	})
	if err != nil {
		t.Fatal(err)
	}
	f.svc = svc
	f.db.Close() // the commit fails
	st := f.deliver(t, "alice@example.org", "bob@example.com")
	if !st[0].Temporary() {
		t.Fatalf("status = %v, want a temporary failure", st)
	}
	if n := m.Decisions.Value("queued"); n != 0 {
		t.Errorf("decisions{reason=sent} = %d after a failed commit, want 0", n)
	}
	if n := m.Queued.Value("vacation"); n != 0 {
		t.Errorf("queued{kind=vacation} = %d after a failed commit, want 0", n)
	}
	if n := m.Decisions.Value("error"); n != 1 {
		t.Errorf("decisions{reason=error} = %d after a failed commit, want 1", n)
	}
	if line := logs.String(); !strings.Contains(line, "vacation=error") || strings.Contains(line, "vacation=queued") {
		t.Errorf("log after a failed commit, want vacation=error:\n%s", line)
	}
}

// barrierDedup answers Seen, then holds the answer until a second Seen
// has arrived (or a while has passed), so two deliveries that are not
// serialized both decide before either commits.
type barrierDedup struct {
	StoreDedup
	arrived chan struct{}
}

func (d barrierDedup) Seen(ctx context.Context, k vacation.Key, now time.Time) (bool, error) {
	seen, err := d.StoreDedup.Seen(ctx, k, now)
	d.arrived <- struct{}{}
	deadline := time.After(300 * time.Millisecond)
	for len(d.arrived) < 2 {
		select {
		case <-deadline:
			return seen, err
		case <-time.After(time.Millisecond):
		}
	}
	return seen, err
}

// A sender written with a quoted local part ("alice"@example.org) is the
// same dedup key as alice@example.org, so the two must share the lock
// that makes decide-and-commit atomic: else both get a reply.
func TestQuotedSenderSharesTheDedupLock(t *testing.T) {
	f := newFixture(t, map[string]string{"example.com/bob.sieve": vacationScript}, nil)
	now := func() time.Time { return t0 }
	svc, err := New(Config{
		Source: DirSource(f.scripts), Store: f.db,
		Responder: &vacation.Responder{Settings: vacation.DefaultSettings(), Now: now, Hostname: "mx.example.com",
			Dedup: barrierDedup{StoreDedup{DB: f.db}, make(chan struct{}, 2)}},
		Hostname: "mx.example.com", Logger: slog.New(slog.NewTextHandler(io.Discard, nil)), Now: now,
	})
	if err != nil {
		t.Fatal(err)
	}
	f.svc = svc
	var wg sync.WaitGroup
	for _, from := range []string{"alice@example.org", `"alice"@example.org`} {
		wg.Add(1)
		go func() {
			defer wg.Done()
			f.svc.Deliver(context.Background(), &transport.Envelope{From: from,
				Recipients: []transport.Recipient{{Addr: "bob@example.com"}}}, []byte(testMsg))
		}()
	}
	wg.Wait()
	if n := len(f.outbox(t)); n != 1 {
		t.Fatalf("outbox has %d replies, want 1", n)
	}
}

// failingCommits is a State whose Commit fails while fail is set.
type failingCommits struct {
	State
	fail bool
}

func (s *failingCommits) Commit(ctx context.Context, marks []store.Mark, recs []*store.OutboxRecord) error {
	if s.fail {
		return errors.New("no space left on device")
	}
	return s.State.Commit(ctx, marks, recs)
}

// A reply whose commit failed is not counted by the backscatter limits:
// the client retries the message, and a store that failed for as many
// retries as sieve_vacation_max_replies_per_address allows left the
// sender rate-limited once it recovered, the reply never sent. So with
// the process's counts and with counts shared in PostgreSQL.
func TestFailedCommitNotRateLimited(t *testing.T) {
	for _, tc := range []struct {
		name string
		lim  func(t *testing.T) vacation.Limiter
	}{
		{"RateLimit", func(*testing.T) vacation.Limiter {
			return vacation.RateLimit{PerAddress: 2, Counts: vacation.NewRateCounts()}
		}},
		{"SharedLimit", func(t *testing.T) vacation.Limiter {
			return &SharedLimit{Store: pgReplicas(t, 1)[0], Local: vacation.RateLimit{PerAddress: 2, Counts: vacation.NewRateCounts()}}
		}},
	} {
		t.Run(tc.name, func(t *testing.T) { testFailedCommitNotRateLimited(t, tc.lim(t)) })
	}
}

func testFailedCommitNotRateLimited(t *testing.T, lim vacation.Limiter) {
	f := newFixture(t, map[string]string{"example.com/bob.sieve": vacationScript}, nil)
	now := func() time.Time { return t0 }
	st := &failingCommits{State: f.db, fail: true}
	svc, err := New(Config{
		Source: DirSource(f.scripts), Store: st,
		Responder: &vacation.Responder{Settings: vacation.DefaultSettings(), Dedup: StoreDedup{DB: f.db}, Now: now, Hostname: "mx.example.com", Limiter: lim},
		Hostname:  "mx.example.com", Logger: slog.New(slog.NewTextHandler(io.Discard, nil)), Now: now,
	})
	if err != nil {
		t.Fatal(err)
	}
	f.svc = svc
	for i := range 3 {
		if got := f.deliver(t, "alice@example.org", "bob@example.com"); !got[0].Temporary() {
			t.Fatalf("try %d: status = %v, want a temporary failure", i, got)
		}
	}
	st.fail = false
	if got := f.deliver(t, "alice@example.org", "bob@example.com"); !got[0].OK() {
		t.Fatalf("status = %v after the store recovered", got)
	}
	if n := svc.metrics.Decisions.Value("rate-limited"); n != 0 {
		t.Errorf("rate-limited %d times: the failed commits were counted", n)
	}
	if n := svc.metrics.Decisions.Value("queued"); n != 1 {
		t.Errorf("queued %d, want 1", n)
	}
}
