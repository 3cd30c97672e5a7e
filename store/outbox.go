package store

import (
	"encoding/binary"
	"fmt"
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
