package store

import (
	"context"
	"errors"
	"fmt"
	"time"

	bolt "go.etcd.io/bbolt"
)

// deleteRecord removes record id and its schedule entry, returning the
// record as it was.
func deleteRecord(tx *bolt.Tx, id uint64) (OutboxRecord, error) {
	ob := tx.Bucket(bucketOutbox)
	v := ob.Get(u64(id))
	if v == nil {
		return OutboxRecord{}, fmt.Errorf("outbox record %d: %w", id, ErrNotFound)
	}
	r, err := decodeOutbox(id, v)
	if err != nil {
		return OutboxRecord{}, err
	}
	if err := tx.Bucket(bucketOutboxDue).Delete(dueKey(r.NextAttempt, id)); err != nil {
		return OutboxRecord{}, err
	}
	if err := ob.Delete(u64(id)); err != nil {
		return OutboxRecord{}, err
	}
	return r, nil
}

// Done deletes record id after the relay accepted it, and is durable when
// it returns. On success it ends the lease; on failure the lease is kept so
// this process does not send the record again (after a restart it will be).
//
// The deletion is lazy: it waits up to [Options.DoneDelay] for a
// transaction another write starts (at a steady state, the next Commit of
// a reply) and starts its own only when none comes, so sent records cost
// no fsync of their own. A caller that must not wait calls Done from its
// own goroutine. This widens the window in which a crash makes a record
// that was sent due again (see Outbox's Leases) by at most DoneDelay; a
// record is deleted only by Done (accepted), Drop or an operator, never
// because of the delay.
func (db *DB) Done(id uint64) error {
	err := db.w.doLazy(context.Background(), func(tx *bolt.Tx) error {
		_, err := deleteRecord(tx, id)
		return err
	})
	if err != nil {
		return fmt.Errorf("outbox done: %w", err)
	}
	db.Release(id)
	return nil
}

// Retry records a failed attempt at id: Attempts is incremented, LastError
// set, and the record is due again at next, and the lease ends. When the
// update cannot be stored (a full disk) the lease is kept until its time,
// as with PostgreSQL: ending it would make the record due again at once,
// so the relay would send it again and fail to store that again, without
// pause, for as long as writes fail.
func (db *DB) Retry(id uint64, next time.Time, lastErr string) error {
	err := db.reschedule("outbox retry", id, next, func(r *OutboxRecord) {
		r.Attempts++
		r.LastError = lastErr
	})
	db.settled(id, err)
	return err
}

// settled ends the lease on id after an update that ended it, unless the
// update failed for any reason but the record being gone: then the lease
// runs out with its time (see Retry).
func (db *DB) settled(id uint64, err error) {
	if err == nil || errors.Is(err, ErrNotFound) {
		db.Release(id)
	}
}

// Reschedule makes id due at next without counting an attempt, for
// operators ("retry now"). It ends any lease.
func (db *DB) Reschedule(id uint64, next time.Time) error {
	defer db.Release(id)
	err := db.reschedule("outbox reschedule", id, next, func(*OutboxRecord) {})
	if err == nil {
		// Wake the dispatcher: an operator's "retry now" should not wait
		// for the dispatcher's next scheduled look.
		db.signal()
	}
	return err
}

// RescheduleIdle is Reschedule for a record no worker is sending; for one
// that is leased it returns ErrLeased and changes nothing, since ending
// the lease would let a second worker send the record while the first
// still is. For an operator's "retry now" on a running service.
func (db *DB) RescheduleIdle(id uint64, next time.Time) error {
	now := time.Now()
	db.leaseMu.Lock()
	if until, ok := db.leased[id]; ok && until.After(now) {
		db.leaseMu.Unlock()
		return fmt.Errorf("outbox reschedule: record %d: %w", id, ErrLeased)
	}
	// Lease it for the update, so no Claim takes it meanwhile; Reschedule
	// ends this lease.
	db.leased[id] = now.Add(DefaultLease)
	db.leaseMu.Unlock()
	return db.Reschedule(id, next)
}

func (db *DB) reschedule(what string, id uint64, next time.Time, update func(*OutboxRecord)) error {
	err := db.w.do(context.Background(), func(tx *bolt.Tx) error {
		r, err := deleteRecord(tx, id)
		if err != nil {
			return err
		}
		update(&r)
		r.NextAttempt = next
		if err := tx.Bucket(bucketOutbox).Put(u64(id), encodeOutbox(&r)); err != nil {
			return err
		}
		return tx.Bucket(bucketOutboxDue).Put(dueKey(next, id), []byte{})
	})
	if err != nil {
		return fmt.Errorf("%s: %w", what, err)
	}
	return nil
}

// Drop deletes record id without delivering it and keeps a copy of its
// envelope (not its message) with why and the time in the dropped list
// (the newest 1000), durably, and ends the lease; when that cannot be
// stored the lease is kept until its time (see Retry).
func (db *DB) Drop(id uint64, why string) (err error) {
	defer func() { db.settled(id, err) }()
	now := time.Now()
	err = db.w.do(context.Background(), func(tx *bolt.Tx) error {
		r, err := deleteRecord(tx, id)
		if err != nil {
			return err
		}
		b := tx.Bucket(bucketOutboxDropped)
		if err := b.Put(u64(id), encodeDropped(&DroppedRecord{Record: r, Dropped: now, Reason: why})); err != nil {
			return err
		}
		// Count with a cursor: Bucket.Stats ignores this transaction's
		// uncommitted changes.
		n := 0
		c := b.Cursor()
		for k, _ := c.First(); k != nil; k, _ = c.Next() {
			n++
		}
		for k, _ := c.First(); k != nil && n > maxDropped; k, _ = c.First() {
			if err := c.Delete(); err != nil {
				return err
			}
			n--
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("outbox drop: %w", err)
	}
	return nil
}
