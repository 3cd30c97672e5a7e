package store

import (
	"context"
	"encoding/binary"
	"fmt"
	"time"

	bolt "go.etcd.io/bbolt"
)

// Claim is Due for workers: it returns up to limit due records whose lease
// is not running at now and leases them to the caller until now+lease
// (DefaultLease when lease <= 0), so concurrent workers never hold the
// same record. A lease ends with Done, Retry, Drop or Release, or at its
// end. Leases live in memory only: after a crash, a record that was leased
// (being sent) is due again and may be sent a second time; no other record
// can be.
func (db *DB) Claim(ctx context.Context, now time.Time, limit int, lease time.Duration) ([]OutboxRecord, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	if lease <= 0 {
		lease = DefaultLease
	}
	db.leaseMu.Lock()
	defer db.leaseMu.Unlock()
	recs, err := db.due(now, limit, func(id uint64) bool {
		until, ok := db.leased[id]
		return ok && until.After(now)
	})
	if err != nil {
		return nil, err
	}
	until := now.Add(lease)
	for i := range recs {
		db.leased[recs[i].ID] = until
		recs[i].LeaseUntil = until
	}
	return recs, nil
}

// Release ends the lease on id without changing the record, which is due
// again at its NextAttempt (for a worker shutting down mid-record).
func (db *DB) Release(id uint64) {
	db.leaseMu.Lock()
	delete(db.leased, id)
	db.leaseMu.Unlock()
}

// Leased reports how many records are leased, their lease still running.
func (db *DB) Leased() int {
	now := time.Now()
	db.leaseMu.Lock()
	defer db.leaseMu.Unlock()
	n := 0
	for _, until := range db.leased {
		if until.After(now) {
			n++
		}
	}
	return n
}

// NextDue returns the earliest time a Claim may return a record: the
// NextAttempt of a record not leased, or the end of a lease when that is
// later than the record's NextAttempt; false if the outbox is empty. A
// dispatcher sleeps until then.
func (db *DB) NextDue(ctx context.Context) (time.Time, bool, error) {
	if err := ctx.Err(); err != nil {
		return time.Time{}, false, err
	}
	db.leaseMu.Lock()
	defer db.leaseMu.Unlock()
	var (
		next time.Time
		ok   bool
	)
	err := db.view(func(tx *bolt.Tx) error {
		c := tx.Bucket(bucketOutboxDue).Cursor()
		for k, _ := c.First(); k != nil; k, _ = c.Next() {
			if len(k) != 16 {
				return fmt.Errorf("bad outbox_due key %x", k)
			}
			at := NanoTime(int64(binary.BigEndian.Uint64(k)))
			if ok && !at.Before(next) {
				// Sorted by NextAttempt: no later record can be earlier.
				return nil
			}
			if until, leased := db.leased[binary.BigEndian.Uint64(k[8:])]; leased && until.After(at) {
				at = until
			}
			if !ok || at.Before(next) {
				next, ok = at, true
			}
		}
		return nil
	})
	if err != nil {
		return time.Time{}, false, fmt.Errorf("next due: %w", err)
	}
	return next, ok, nil
}
