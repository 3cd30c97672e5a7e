package vacation

import (
	"context"
	"sync"
	"time"
)

// Key identifies the replies that deduplicate one another: the same user
// answering the same sender with the same response. Its fields match
// store.DedupKey, so one converts to the other.
type Key struct {
	User   string // the script owner
	Sender string // the envelope sender, lowercased
	Handle string // :handle, or the one synthesized by the Sieve compiler
}

// Dedup remembers which replies were sent. Implementations must be safe for
// concurrent use.
type Dedup interface {
	// Seen reports whether a reply for k was recorded and has not expired
	// at now.
	Seen(ctx context.Context, k Key, now time.Time) (bool, error)
	// Mark records a reply for k made at created, to be suppressed until
	// expires.
	Mark(ctx context.Context, k Key, created, expires time.Time) error
}

// MemoryDedup is a [Dedup] held in memory, for the command-line tools and
// tests. The zero value is ready to use; records vanish with the process.
type MemoryDedup struct {
	mu   sync.Mutex
	recs map[Key]time.Time // expiry
}

// Seen implements [Dedup]. Expired records are dropped as they are found.
func (m *MemoryDedup) Seen(ctx context.Context, k Key, now time.Time) (bool, error) {
	if err := ctx.Err(); err != nil {
		return false, err
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	exp, ok := m.recs[k]
	if !ok {
		return false, nil
	}
	if !now.Before(exp) {
		delete(m.recs, k)
		return false, nil
	}
	return true, nil
}

// Mark implements [Dedup]. A later expiry replaces an earlier one.
func (m *MemoryDedup) Mark(ctx context.Context, k Key, created, expires time.Time) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.recs == nil {
		m.recs = make(map[Key]time.Time)
	}
	if old, ok := m.recs[k]; !ok || expires.After(old) {
		m.recs[k] = expires
	}
	return nil
}

// Records returns a copy of the unexpired records at now, for saving them
// (the CLI's --data) and for tests.
func (m *MemoryDedup) Records(now time.Time) map[Key]time.Time {
	m.mu.Lock()
	defer m.mu.Unlock()
	out := make(map[Key]time.Time, len(m.recs))
	for k, exp := range m.recs {
		if now.Before(exp) {
			out[k] = exp
		}
	}
	return out
}
