package main

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"time"

	"github.com/vacationd/vacationd/store"
	"github.com/vacationd/vacationd/vacation"
)

// storeDedup keeps vacation dedup records in the service's bbolt store, so
// vacationd test --data DIR and vacationd dedup list --data DIR see the same
// records as vacationd serve.
type storeDedup struct{ db *store.DB }

func (s storeDedup) Seen(ctx context.Context, k vacation.Key, now time.Time) (bool, error) {
	return s.db.Seen(ctx, store.DedupKey(k), now)
}

func (s storeDedup) Mark(ctx context.Context, k vacation.Key, created, expires time.Time) error {
	return s.db.Commit(ctx, []store.Mark{{Key: store.DedupKey(k), Created: created, Expires: expires}}, nil)
}

// openTestStore opens (creating it if needed) DIR/vacationd.db for
// vacationd test.
func openTestStore(dir string) (*store.DB, error) {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, fmt.Errorf("--data: %w", err)
	}
	return store.Open(filepath.Join(dir, "vacationd.db"), store.Options{Timeout: 500 * time.Millisecond})
}
