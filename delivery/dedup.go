package delivery

import (
	"context"
	"time"

	"github.com/vacationd/vacationd/sieve"
	"github.com/vacationd/vacationd/store"
	"github.com/vacationd/vacationd/vacation"
)

// State is what a delivery reads and writes: dedup marks, read one at a
// time, and a recipient's marks and outbox records, committed together.
// store.State implementations satisfy it.
type State interface {
	Seen(ctx context.Context, k store.DedupKey, now time.Time) (bool, error)
	Commit(ctx context.Context, marks []store.Mark, recs []*store.OutboxRecord) error
}

// StoreDedup is the vacation.Dedup kept in the state store.
type StoreDedup struct{ DB State }

// Seen implements vacation.Dedup.
func (d StoreDedup) Seen(ctx context.Context, k vacation.Key, now time.Time) (bool, error) {
	return d.DB.Seen(ctx, store.DedupKey{User: k.User, Sender: k.Sender, Handle: k.Handle}, now)
}

// Mark implements vacation.Dedup with a commit of its own; the service
// instead commits marks together with the outbox record.
func (d StoreDedup) Mark(ctx context.Context, k vacation.Key, created, expires time.Time) error {
	return d.DB.Commit(ctx, []store.Mark{{Key: store.DedupKey{User: k.User, Sender: k.Sender, Handle: k.Handle}, Created: created, Expires: expires}}, nil)
}

// duplicateSender is the sender field of the records the Sieve duplicate
// test (RFC 7352) keeps in the dedup bucket; no envelope sender has this
// form, so they never mix with vacation records.
const duplicateSender = "<sieve-duplicate>"

// storeDuplicates answers the duplicate test for one user from the store.
type storeDuplicates struct {
	db   State
	user string
	now  time.Time
}

// Seen implements sieve.DuplicateChecker.
func (d storeDuplicates) Seen(ctx context.Context, id string) (bool, error) {
	return d.db.Seen(ctx, store.DedupKey{User: d.user, Sender: duplicateSender, Handle: id}, d.now)
}

// StoreDuplicates answers the duplicate test for user from state.
func StoreDuplicates(state State, user string, now time.Time) sieve.DuplicateChecker {
	return storeDuplicates{db: state, user: user, now: now}
}

// dupRecorder keeps the first error of a duplicate checker, so the
// pipeline can tell a store that did not answer from an error in the
// script. It serves one run.
type dupRecorder struct {
	checker sieve.DuplicateChecker
	err     error
}

// Seen implements sieve.DuplicateChecker.
func (d *dupRecorder) Seen(ctx context.Context, id string) (bool, error) {
	seen, err := d.checker.Seen(ctx, id)
	if err != nil && d.err == nil {
		d.err = err
	}
	return seen, err
}

// duplicateMarks turns the ids a run asked to record into dedup marks,
// committed with the rest of the recipient's effects.
func duplicateMarks(user string, now time.Time, ds []sieve.DuplicateMark) []store.Mark {
	var out []store.Mark
	for _, d := range ds {
		if d.Period <= 0 {
			continue
		}
		out = append(out, store.Mark{Key: store.DedupKey{User: user, Sender: duplicateSender, Handle: d.ID}, Created: now, Expires: now.Add(d.Period)})
	}
	return out
}
