package delivery

import (
	"context"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"

	"github.com/vacationd/vacationd/metrics"
	"github.com/vacationd/vacationd/store"
	"github.com/vacationd/vacationd/vacation"
)

// SharedLimit is the [vacation.Limiter] of replicas sharing a state store:
// the backscatter limits of Local (its PerAddress, PerMinute and
// Delimiters) counted in Store, so that they hold across every replica
// instead of each replica admitting them on its own. The semantics are
// Local's (see [vacation.RateLimit] and [store.ReplyLimits]).
//
// The Limiter interface has no error, and a reply must neither wait for a
// store that does not answer nor go out unlimited. So when Store fails
// (or takes longer than Timeout), Local's counts decide that call: the
// replica then holds the limits on its own, as a RateLimit would, for as
// long as the store fails. Local also counts every reply Store allows, so
// that the replica's own recent replies count when it falls back. The
// first failure of a burst is logged (a warning), the calls decided
// locally are counted in Fallbacks, and the store's answering again is
// logged with how many there were. Replies allowed locally are not in the
// shared counts: during a store outage N replicas admit up to N times the
// limits, as before counts were shared (and the outage also fails the
// commits that queue replies, so few go out). A call that failed
// midway may have been counted in Store as well, which errs on the side
// of the limits.
//
// Refund takes the reply back from both Local and Store; for a reply
// Local allowed, Store has no such reply and nothing changes. A refund
// the store fails is logged as above, and the reply stays counted until
// its window passes.
//
// With both limits off the store is not asked at all.
type SharedLimit struct {
	Store store.ReplyLimits
	Local vacation.RateLimit
	// Timeout bounds each call to Store; 0 means DefaultLimitTimeout.
	Timeout time.Duration
	// Logger receives the failures; nil means slog.Default().
	Logger *slog.Logger
	// Fallbacks, when not nil, counts the calls Local decided because
	// Store failed.
	Fallbacks *metrics.Counter

	burst burst
}

// DefaultLimitTimeout bounds a [SharedLimit]'s call to its store: longer
// than a loaded database takes to answer, short enough that a delivery
// does not wait for a database that is gone.
const DefaultLimitTimeout = 5 * time.Second

var (
	_ vacation.Limiter  = (*SharedLimit)(nil)
	_ vacation.Refunder = (*SharedLimit)(nil)
)

// Allow implements [vacation.Limiter].
func (l *SharedLimit) Allow(to string, now time.Time) (bool, string) {
	if l.Local.PerAddress == 0 && l.Local.PerMinute == 0 {
		return l.Local.Allow(to, now)
	}
	key := l.Local.Key(to)
	ctx, cancel := l.context()
	hit, n, err := l.Store.AllowReply(ctx, key, now, l.Local.PerAddress, l.Local.PerMinute)
	cancel()
	if err != nil {
		l.failed("allow", err)
		if l.Fallbacks != nil {
			l.Fallbacks.Inc("")
		}
		return l.Local.Allow(to, now)
	}
	l.answered()
	switch hit {
	case store.ReplyPerMinute:
		return false, vacation.MinuteLimitWhy(n)
	case store.ReplyPerAddress:
		return false, vacation.AddressLimitWhy(n, key)
	}
	l.Local.Allow(to, now) // so that a fallback counts this reply
	return true, ""
}

// Refund implements [vacation.Refunder].
func (l *SharedLimit) Refund(to string, now time.Time) {
	l.Local.Refund(to, now)
	if l.Local.PerAddress == 0 && l.Local.PerMinute == 0 {
		return
	}
	ctx, cancel := l.context()
	defer cancel()
	if err := l.Store.RefundReply(ctx, l.Local.Key(to), now); err != nil {
		l.failed("refund", err)
		return
	}
	l.answered()
}

func (l *SharedLimit) context() (context.Context, context.CancelFunc) {
	d := l.Timeout
	if d <= 0 {
		d = DefaultLimitTimeout
	}
	return context.WithTimeout(context.Background(), d)
}

// burst is the state of a run of store failures, for logging it once.
type burst struct {
	failing atomic.Bool // fast path of answered
	mu      sync.Mutex
	n       int // failures in the current burst
}

func (l *SharedLimit) logger() *slog.Logger {
	if l.Logger != nil {
		return l.Logger
	}
	return slog.Default()
}

// failed records a store failure, logging the first of a burst.
func (l *SharedLimit) failed(op string, err error) {
	b := &l.burst
	b.mu.Lock()
	defer b.mu.Unlock()
	b.n++
	if b.failing.Swap(true) {
		return
	}
	l.logger().Warn("backscatter limits: the state store failed; this replica's own counts decide until it answers",
		"op", op, "error", err)
}

// answered ends a burst of store failures, logging how many there were.
func (l *SharedLimit) answered() {
	b := &l.burst
	if !b.failing.Load() {
		return
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	if !b.failing.Swap(false) {
		return
	}
	l.logger().Info("backscatter limits: the state store answers again", "failures", b.n)
	b.n = 0
}
