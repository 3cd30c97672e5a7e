package delivery

import (
	"context"
	"strings"
	"sync"
	"time"

	"github.com/vacationd/vacationd/store"
)

// MemoryState is a State held in memory: `vacationd test` without --data
// and tests. Committed marks live until the process ends; committed
// records are kept in Records. It is safe for concurrent use.
type MemoryState struct {
	mu      sync.Mutex
	marks   map[store.DedupKey]time.Time // expiry
	records []*store.OutboxRecord
}

func memKey(k store.DedupKey) store.DedupKey {
	return store.DedupKey{User: strings.ToLower(k.User), Sender: strings.ToLower(k.Sender), Handle: k.Handle}
}

// Seen implements State.
func (m *MemoryState) Seen(ctx context.Context, k store.DedupKey, now time.Time) (bool, error) {
	if err := ctx.Err(); err != nil {
		return false, err
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	exp, ok := m.marks[memKey(k)]
	return ok && now.Before(exp), nil
}

// Commit implements State: every mark and record, at once.
func (m *MemoryState) Commit(ctx context.Context, marks []store.Mark, recs []*store.OutboxRecord) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.marks == nil {
		m.marks = map[store.DedupKey]time.Time{}
	}
	for _, mk := range marks {
		m.marks[memKey(mk.Key)] = mk.Expires
	}
	m.records = append(m.records, recs...)
	return nil
}

// Records returns the records committed so far.
func (m *MemoryState) Records() []*store.OutboxRecord {
	m.mu.Lock()
	defer m.mu.Unlock()
	return append([]*store.OutboxRecord(nil), m.records...)
}
