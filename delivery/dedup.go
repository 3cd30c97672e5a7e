package delivery

import (
	"context"
	"time"

	"github.com/vacationd/vacationd/store"
	"github.com/vacationd/vacationd/vacation"
)

// StoreDedup is the vacation.Dedup kept in bbolt.
type StoreDedup struct{ DB *store.DB }

// Seen implements vacation.Dedup.
func (d StoreDedup) Seen(ctx context.Context, k vacation.Key, now time.Time) (bool, error) {
	return d.DB.Seen(ctx, store.DedupKey{User: k.User, Sender: k.Sender, Handle: k.Handle}, now)
}

// Mark implements vacation.Dedup with a commit of its own; the service
// instead commits marks together with the outbox record.
func (d StoreDedup) Mark(ctx context.Context, k vacation.Key, created, expires time.Time) error {
	return d.DB.Commit(ctx, []store.Mark{{Key: store.DedupKey{User: k.User, Sender: k.Sender, Handle: k.Handle}, Created: created, Expires: expires}}, nil)
}
