package store

import (
	"context"
	"fmt"
	"slices"
	"time"

	bolt "go.etcd.io/bbolt"
)

// Commit writes every mark and every outbox record in one bbolt
// transaction and returns nil only once that transaction is durable
// (fsynced): either all of them are stored or, on error, none. Concurrent
// callers share transactions and fsyncs (see the package documentation).
//
// Commit assigns each stored record's ID, writing it into recs; it sets a
// zero Queued to the current time and a zero NextAttempt to Queued. A mark
// for an existing key replaces it, except an exclusive mark (one with a
// Reply) when the existing mark is live at its Created time: then that
// mark and its Reply are skipped, and Reply.ID stays 0. If ctx ends before
// the write has started, nothing is written and ctx.Err() is returned;
// once started, Commit waits for the outcome. Arguments are validated
// first and an invalid one fails the call with an error wrapping
// ErrInvalid.
//
// After a Commit that stored records, [DB.Queued] is signalled.
func (db *DB) Commit(ctx context.Context, marks []Mark, recs []*OutboxRecord) error {
	if len(marks) == 0 && len(recs) == 0 {
		return ctx.Err()
	}
	keys := make([][]byte, len(marks))
	for i, m := range marks {
		k, err := dedupKey(m.Key)
		if err != nil {
			return fmt.Errorf("commit: mark %d: %w", i, err)
		}
		keys[i] = k
	}
	for i, r := range recs {
		if err := validateRecord(i, r); err != nil {
			return fmt.Errorf("commit: %w", err)
		}
	}
	guard, err := replyGuards(marks, recs)
	if err != nil {
		return fmt.Errorf("commit: %w", err)
	}
	now := time.Now()
	vals := make([][]byte, len(recs))
	for i, r := range recs {
		if r.Queued.IsZero() {
			r.Queued = now
		}
		if r.NextAttempt.IsZero() {
			r.NextAttempt = r.Queued
		}
		vals[i] = encodeOutbox(r)
	}
	ids := make([]uint64, len(recs))
	err = db.w.do(ctx, func(tx *bolt.Tx) error {
		lost := make([]bool, len(marks)) // afresh on every run of fn
		d := tx.Bucket(bucketDedup)
		for i, m := range marks {
			if m.Reply != nil {
				if v := d.Get(keys[i]); v != nil {
					if _, exp, err := decodeDedup(v); err == nil && m.Created.Before(exp) {
						lost[i] = true
						continue
					}
				}
			}
			if err := putMark(tx, keys[i], m); err != nil {
				return fmt.Errorf("mark %d: %w", i, err)
			}
		}
		if db.testHook != nil {
			if err := db.testHook(marks, recs); err != nil {
				return err
			}
		}
		ob, due := tx.Bucket(bucketOutbox), tx.Bucket(bucketOutboxDue)
		for i, r := range recs {
			ids[i] = 0
			if g, ok := guard[i]; ok && lost[g] {
				continue
			}
			id, err := ob.NextSequence()
			if err != nil {
				return err
			}
			ids[i] = id
			if err := ob.Put(u64(id), vals[i]); err != nil {
				return fmt.Errorf("outbox record %d: %w", i, err)
			}
			if err := due.Put(dueKey(r.NextAttempt, id), []byte{}); err != nil {
				return fmt.Errorf("outbox record %d: %w", i, err)
			}
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("commit: %w", err)
	}
	stored := false
	for i, r := range recs {
		r.ID = ids[i]
		stored = stored || ids[i] != 0
	}
	if stored {
		db.signal()
	}
	return nil
}

// replyGuards maps the index in recs of each exclusive mark's Reply to the
// mark's index, checking that every Reply is one of recs and belongs to
// one mark only.
func replyGuards(marks []Mark, recs []*OutboxRecord) (map[int]int, error) {
	var guard map[int]int
	for i, m := range marks {
		if m.Reply == nil {
			continue
		}
		j := slices.Index(recs, m.Reply)
		if j < 0 {
			return nil, fmt.Errorf("mark %d: its Reply is not among the records: %w", i, ErrInvalid)
		}
		if guard == nil {
			guard = map[int]int{}
		}
		if _, dup := guard[j]; dup {
			return nil, fmt.Errorf("mark %d: record %d is the Reply of two marks: %w", i, j, ErrInvalid)
		}
		guard[j] = i
	}
	return guard, nil
}

// signal wakes the dispatcher without blocking.
func (db *DB) signal() {
	select {
	case db.queued <- struct{}{}:
	default:
	}
}

// Queued returns a channel that receives a value after a Commit that stored
// outbox records. Signals coalesce (capacity 1), so a receiver must drain
// everything due, not one record per signal. Meant for one dispatcher.
func (db *DB) Queued() <-chan struct{} { return db.queued }
