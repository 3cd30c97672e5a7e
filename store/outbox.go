package store

import (
	"context"
	"encoding/binary"
	"fmt"
	"slices"
	"strings"
	"time"

	bolt "go.etcd.io/bbolt"
)

// Outbox record kinds.
const (
	KindVacation = "vacation"
	KindRedirect = "redirect"
	// KindSubmission is a message another MTA (Dovecot, as submission_host)
	// handed to vacationd's submission listener to relay.
	KindSubmission = "submission"
	// KindNotify is an enotify notification (RFC 5435) a script sent.
	KindNotify = "notify"
	// KindReport is a vnd.dovecot.report feedback report (RFC 5965).
	KindReport = "report"
)

// validKind reports whether k is one of the record kinds.
func validKind(k string) bool {
	switch k {
	case KindVacation, KindRedirect, KindSubmission, KindNotify, KindReport:
		return true
	}
	return false
}

// OutboxRecord is a message waiting to be relayed: its envelope, the
// message itself and its delivery schedule.
type OutboxRecord struct {
	ID          uint64   // assigned by Commit; increasing, never reused
	From        string   // envelope sender; "" is the null sender <>
	To          []string // envelope recipients, at least one
	Message     []byte   // the full message, header and body
	Kind        string   // KindVacation, KindRedirect, KindSubmission, KindNotify or KindReport
	User        string   // the user whose script produced it
	Attempts    int      // delivery attempts so far
	Queued      time.Time
	NextAttempt time.Time
	LastError   string
	// LeaseUntil is when the lease [Outbox.Claim] gave ends; zero in
	// records not returned by Claim. It is not stored.
	LeaseUntil time.Time
}

// DroppedRecord is an outbox record removed by Drop, kept (without its
// message) for operators. The newest maxDropped are retained.
type DroppedRecord struct {
	Record  OutboxRecord // Message is nil
	Dropped time.Time
	Reason  string
}

const maxDropped = 1000

// dueKey is the outbox_due index key: next_attempt(8) id(8).
func dueKey(next time.Time, id uint64) []byte {
	b := make([]byte, 16)
	binary.BigEndian.PutUint64(b, sortNano(next))
	binary.BigEndian.PutUint64(b[8:], id)
	return b
}

func validateRecord(i int, r *OutboxRecord) error {
	bad := func(format string, args ...any) error {
		return fmt.Errorf("outbox record %d: %s: %w", i, fmt.Sprintf(format, args...), ErrInvalid)
	}
	switch {
	case r == nil:
		return bad("nil")
	case !validKind(r.Kind):
		return bad("kind %q, want one of %q, %q, %q, %q or %q", r.Kind, KindVacation, KindRedirect, KindSubmission, KindNotify, KindReport)
	case len(r.To) == 0:
		return bad("no recipients")
	case len(r.Message) == 0:
		return bad("empty message")
	case len(r.Message) > bolt.MaxValueSize-1<<16:
		return bad("message of %d bytes is too large", len(r.Message))
	}
	for _, t := range r.To {
		if t == "" || strings.ContainsAny(t, "\r\n") {
			return bad("bad recipient %q", t)
		}
	}
	if strings.ContainsAny(r.From, "\r\n") {
		return bad("bad sender %q", r.From)
	}
	return nil
}

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

// Get returns the outbox record id.
func (db *DB) Get(id uint64) (OutboxRecord, error) {
	var r OutboxRecord
	err := db.view(func(tx *bolt.Tx) error {
		v := tx.Bucket(bucketOutbox).Get(u64(id))
		if v == nil {
			return fmt.Errorf("outbox record %d: %w", id, ErrNotFound)
		}
		var err error
		r, err = decodeOutbox(id, v)
		return err
	})
	return r, err
}

// Due returns up to limit records (all if limit <= 0) with NextAttempt <=
// now, earliest NextAttempt first (ties by ID). It ignores leases; workers
// use Claim.
func (db *DB) Due(now time.Time, limit int) ([]OutboxRecord, error) {
	return db.due(now, limit, nil)
}

func (db *DB) due(now time.Time, limit int, skip func(uint64) bool) ([]OutboxRecord, error) {
	max := sortNano(now)
	var out []OutboxRecord
	err := db.view(func(tx *bolt.Tx) error {
		ob := tx.Bucket(bucketOutbox)
		c := tx.Bucket(bucketOutboxDue).Cursor()
		for k, _ := c.First(); k != nil && (limit <= 0 || len(out) < limit); k, _ = c.Next() {
			if len(k) != 16 {
				return fmt.Errorf("bad outbox_due key %x", k)
			}
			if binary.BigEndian.Uint64(k) > max {
				break
			}
			id := binary.BigEndian.Uint64(k[8:])
			if skip != nil && skip(id) {
				continue
			}
			v := ob.Get(k[8:])
			if v == nil {
				return fmt.Errorf("outbox_due entry for missing record %d", id)
			}
			r, err := decodeOutbox(id, v)
			if err != nil {
				return err
			}
			out = append(out, r)
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("due: %w", err)
	}
	return out, nil
}

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
			at := nanoTime(int64(binary.BigEndian.Uint64(k)))
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
// set, and the record is due again at next. It ends the lease either way.
func (db *DB) Retry(id uint64, next time.Time, lastErr string) error {
	defer db.Release(id)
	return db.reschedule("outbox retry", id, next, func(r *OutboxRecord) {
		r.Attempts++
		r.LastError = lastErr
	})
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
// (the newest 1000), durably. It ends the lease either way.
func (db *DB) Drop(id uint64, why string) error {
	defer db.Release(id)
	now := time.Now()
	err := db.w.do(context.Background(), func(tx *bolt.Tx) error {
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

// ListOutbox returns every outbox record in ID (queueing) order.
func (db *DB) ListOutbox() ([]OutboxRecord, error) {
	out, err := listByID(db, bucketOutbox, decodeOutbox)
	if err != nil {
		return nil, fmt.Errorf("list outbox: %w", err)
	}
	return out, nil
}

// ListDropped returns the retained dropped records, oldest first.
func (db *DB) ListDropped() ([]DroppedRecord, error) {
	out, err := listByID(db, bucketOutboxDropped, decodeDropped)
	if err != nil {
		return nil, fmt.Errorf("list dropped: %w", err)
	}
	return out, nil
}

// listByID decodes every record of a bucket keyed by 8-byte big-endian
// IDs, in ID order, in one read transaction.
func listByID[T any](db *DB, bucket []byte, decode func(id uint64, v []byte) (T, error)) ([]T, error) {
	var out []T
	err := db.view(func(tx *bolt.Tx) error {
		return tx.Bucket(bucket).ForEach(func(k, v []byte) error {
			if len(k) != 8 {
				return fmt.Errorf("bad %s key %x", bucket, k)
			}
			r, err := decode(binary.BigEndian.Uint64(k), v)
			if err != nil {
				return err
			}
			out = append(out, r)
			return nil
		})
	})
	return out, err
}

// OutboxStats returns the number of records in the outbox and the age at
// now of the oldest one, the record with the lowest ID, by its Queued time
// (0 when empty). It walks the small schedule index, not the messages.
func (db *DB) OutboxStats(now time.Time) (depth int, oldest time.Duration, err error) {
	err = db.view(func(tx *bolt.Tx) error {
		depth = tx.Bucket(bucketOutboxDue).Stats().KeyN
		k, v := tx.Bucket(bucketOutbox).Cursor().First()
		if k == nil {
			return nil
		}
		q, err := decodeOutboxHead(v)
		if err != nil {
			return fmt.Errorf("outbox record %x: %w", k, err)
		}
		oldest = max(now.Sub(q), 0)
		return nil
	})
	if err != nil {
		return 0, 0, fmt.Errorf("outbox stats: %w", err)
	}
	return depth, oldest, nil
}

// decodeOutboxHead returns a record's Queued time without copying its
// message.
func decodeOutboxHead(v []byte) (time.Time, error) {
	d := decoder{b: v}
	d.version()
	d.string() // kind
	d.string() // user
	d.string() // from
	n := d.uvarint()
	for i := uint64(0); i < n && d.err == nil; i++ {
		d.string()
	}
	d.uvarint() // attempts
	q := d.time()
	return q, d.err
}
