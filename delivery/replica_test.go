package delivery

import (
	"context"
	"io"
	"log/slog"
	"testing"
	"time"

	"github.com/vacationd/vacationd/sieve"
	"github.com/vacationd/vacationd/store"
	"github.com/vacationd/vacationd/vacation"
)

// staleSeen is the state as a replica sees it when another replica's
// commit lands between its Seen and its Commit: Seen never finds a mark.
type staleSeen struct{ State }

func (staleSeen) Seen(context.Context, store.DedupKey, time.Time) (bool, error) { return false, nil }

// TestReplyDecidedByStore: a delivery whose Seen missed a mark committed
// meanwhile (another replica's) queues no second reply; the store's
// exclusive mark decides, and the decision is counted as a duplicate.
func TestReplyDecidedByStore(t *testing.T) {
	f := newFixture(t, map[string]string{"example.com/bob.sieve": vacationScript}, nil)
	if st := f.deliver(t, "alice@example.org", "bob@example.com"); st[0].Code != 250 {
		t.Fatalf("first delivery: %v", st)
	}
	now := func() time.Time { return t0.Add(time.Minute) }
	stale := staleSeen{f.db}
	other, err := New(Config{
		Source: DirSource(f.scripts), RecipientDelimiter: "+", Store: stale, Compiler: NewCompiler(sieve.Options{Extensions: "+vacation-seconds"}, nil),
		Responder: &vacation.Responder{Settings: vacation.DefaultSettings(), Dedup: StoreDedup{DB: stale}, Now: now, Hostname: "mx2.example.com"},
		Hostname:  "mx2.example.com", Logger: slog.New(slog.NewTextHandler(io.Discard, nil)), Now: now,
	})
	if err != nil {
		t.Fatal(err)
	}
	f.svc = other
	if st := f.deliver(t, "alice@example.org", "bob@example.com"); st[0].Code != 250 {
		t.Fatalf("second delivery: %v", st)
	}
	if n := len(f.outbox(t)); n != 1 {
		t.Fatalf("outbox has %d replies after a delivery that missed the live mark, want 1", n)
	}
	if got := other.metrics.Decisions.Value("duplicate"); got != 1 {
		t.Errorf("duplicate decisions = %d, want 1", got)
	}
}
