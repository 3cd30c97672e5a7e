package postgres

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"

	"github.com/vacationd/vacationd/store"
)

// maxDropped is how many dropped records are kept, as with bbolt.
const maxDropped = 1000

const (
	upsertMark = `INSERT INTO dedup AS d (usr, sender, handle, created, expires) VALUES ($1, $2, $3, $4, $5)
		ON CONFLICT (usr, sender, handle) DO UPDATE SET created = excluded.created, expires = excluded.expires`
	insertRecord = `INSERT INTO outbox (kind, usr, mail_from, rcpt, message, attempts, queued, next_attempt, last_error)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9) RETURNING id`
	// An exclusive mark and its reply in one statement: the reply is
	// inserted only if the mark was, that is if no mark for the key was
	// live at its creation. A concurrent transaction holding the key
	// makes this one wait for its outcome, then re-check.
	exclusiveMark = `WITH m AS (` + upsertMark + ` WHERE d.expires <= excluded.created RETURNING 1)
		INSERT INTO outbox (kind, usr, mail_from, rcpt, message, attempts, queued, next_attempt, last_error)
		SELECT $6, $7, $8, $9, $10, $11, $12, $13, $14 WHERE EXISTS (SELECT 1 FROM m) RETURNING id`
	recordColumns = `id, kind, usr, mail_from, rcpt, message, attempts, queued, next_attempt, last_error, lease_until`
)

func markArgs(m store.Mark) []any {
	return []any{by(strings.ToLower(m.Key.User)), by(strings.ToLower(m.Key.Sender)), by(m.Key.Handle), store.TimeNano(m.Created), store.TimeNano(m.Expires)}
}

func recordArgs(r *store.OutboxRecord) []any {
	return []any{r.Kind, by(r.User), by(r.From), bys(r.To), r.Message, r.Attempts, store.TimeNano(r.Queued), store.TimeNano(r.NextAttempt), by(r.LastError)}
}

// Commit writes marks and records in one transaction, sent as one
// pipelined batch. See [store.Outbox.Commit] for exclusive marks.
func (db *DB) Commit(ctx context.Context, marks []store.Mark, recs []*store.OutboxRecord) error {
	if len(marks) == 0 && len(recs) == 0 {
		return ctx.Err()
	}
	for i, m := range marks {
		if err := store.CheckKey(m.Key); err != nil {
			return fmt.Errorf("commit: mark %d: %w", i, err)
		}
	}
	for i, r := range recs {
		if err := store.CheckRecord(i, r); err != nil {
			return fmt.Errorf("commit: %w", err)
		}
	}
	guard, err := store.ReplyGuards(marks, recs)
	if err != nil {
		return fmt.Errorf("commit: %w", err)
	}
	now := time.Now()
	for _, r := range recs {
		if r.Queued.IsZero() {
			r.Queued = now
		}
		if r.NextAttempt.IsZero() {
			r.NextAttempt = r.Queued
		}
	}
	ctx, cancel, err := db.started(ctx)
	if err != nil {
		db.commitFailed.Add(1)
		return err
	}
	defer cancel()
	// Statements in the batch run in one implicit transaction: an error in
	// any rolls back all.
	b := &pgx.Batch{}
	ids := make([]uint64, len(recs))
	replyOf := make(map[int]int, len(guard)) // mark -> record
	for j, i := range guard {
		replyOf[i] = j
	}
	for i, m := range marks {
		if j, ok := replyOf[i]; ok {
			b.Queue(exclusiveMark, append(markArgs(m), recordArgs(recs[j])...)...).QueryRow(func(row pgx.Row) error {
				return scanID(row, &ids[j])
			})
			continue
		}
		b.Queue(upsertMark, markArgs(m)...)
	}
	for j, r := range recs {
		if _, ok := guard[j]; ok {
			continue
		}
		b.Queue(insertRecord, recordArgs(r)...).QueryRow(func(row pgx.Row) error {
			return scanID(row, &ids[j])
		})
	}
	if len(recs) > 0 {
		b.Queue(`SELECT pg_notify($1, $2)`, notifyChannel, db.owner)
	}
	if err := db.pool.SendBatch(ctx, b).Close(); err != nil {
		db.commitFailed.Add(1)
		return fmt.Errorf("commit: %w", err)
	}
	stored := false
	for j, r := range recs {
		r.ID = ids[j]
		stored = stored || ids[j] != 0
	}
	if stored {
		db.signal()
	}
	return nil
}

// CommitFailures counts the Commit calls the database refused or did not
// answer (the batch failed: nothing of it was stored), for metrics.
func (db *DB) CommitFailures() uint64 { return db.commitFailed.Load() }

// scanID reads the id a statement returned, leaving it 0 when it returned
// no row (an exclusive mark that lost).
func scanID(row pgx.Row, id *uint64) error {
	var v int64
	err := row.Scan(&v)
	if errors.Is(err, pgx.ErrNoRows) {
		*id = 0
		return nil
	}
	*id = uint64(v)
	return err
}

func scanRecord(row pgx.CollectableRow) (store.OutboxRecord, error) {
	var (
		r                   store.OutboxRecord
		id                  int64
		queued, next        int64
		leaseUntil          *int64
		user, from, lastErr []byte
		to                  [][]byte
	)
	err := row.Scan(&id, &r.Kind, &user, &from, &to, &r.Message, &r.Attempts, &queued, &next, &lastErr, &leaseUntil)
	r.ID, r.Queued, r.NextAttempt = uint64(id), store.NanoTime(queued), store.NanoTime(next)
	r.User, r.From, r.To, r.LastError = string(user), string(from), strs(to), string(lastErr)
	_ = leaseUntil // the lease is reported only by Claim
	return r, err
}

func (db *DB) records(ctx context.Context, what, sql string, args ...any) ([]store.OutboxRecord, error) {
	rows, err := db.pool.Query(ctx, sql, args...)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", what, err)
	}
	out, err := pgx.CollectRows(rows, scanRecord)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", what, err)
	}
	return out, nil
}

// Get returns record id, or ErrNotFound.
func (db *DB) Get(id uint64) (store.OutboxRecord, error) {
	ctx, cancel, err := db.op()
	if err != nil {
		return store.OutboxRecord{}, err
	}
	defer cancel()
	recs, err := db.records(ctx, "get", `SELECT `+recordColumns+` FROM outbox WHERE id = $1`, int64(id))
	if err != nil {
		return store.OutboxRecord{}, err
	}
	if len(recs) == 0 {
		return store.OutboxRecord{}, fmt.Errorf("outbox record %d: %w", id, store.ErrNotFound)
	}
	return recs[0], nil
}

// limitArg is a LIMIT parameter: NULL (no limit) for limit <= 0.
func limitArg(limit int) any {
	if limit <= 0 {
		return nil
	}
	return limit
}

// Due returns up to limit records due at now, leased or not, in schedule
// order.
func (db *DB) Due(now time.Time, limit int) ([]store.OutboxRecord, error) {
	ctx, cancel, err := db.op()
	if err != nil {
		return nil, err
	}
	defer cancel()
	return db.records(ctx, "due", `SELECT `+recordColumns+` FROM outbox WHERE next_attempt <= $1
		ORDER BY next_attempt, id LIMIT $2`, store.TimeNano(now), limitArg(limit))
}

// Claim leases up to limit due records whose lease is not running, for
// this handle, until now+lease; replicas claiming at once skip each
// other's rows (FOR UPDATE SKIP LOCKED) instead of waiting.
func (db *DB) Claim(ctx context.Context, now time.Time, limit int, lease time.Duration) ([]store.OutboxRecord, error) {
	if lease <= 0 {
		lease = store.DefaultLease
	}
	ctx, cancel, err := db.read(ctx)
	if err != nil {
		return nil, err
	}
	defer cancel()
	until := now.Add(lease)
	recs, err := db.records(ctx, "claim", `UPDATE outbox SET lease_owner = $1, lease_until = $2
		WHERE id IN (SELECT id FROM outbox WHERE next_attempt <= $3 AND (lease_until IS NULL OR lease_until <= $3)
			ORDER BY next_attempt, id LIMIT $4 FOR UPDATE SKIP LOCKED)
		RETURNING `+recordColumns, db.owner, store.TimeNano(until), store.TimeNano(now), limitArg(limit))
	if err != nil {
		return nil, err
	}
	// RETURNING has no order: back to schedule order.
	slices.SortFunc(recs, func(a, b store.OutboxRecord) int {
		if c := a.NextAttempt.Compare(b.NextAttempt); c != 0 {
			return c
		}
		return cmp.Compare(a.ID, b.ID)
	})
	for i := range recs {
		recs[i].LeaseUntil = until
	}
	return recs, nil
}

// Release ends this handle's lease on id, best effort.
func (db *DB) Release(id uint64) {
	ctx, cancel, err := db.op()
	if err != nil {
		return
	}
	defer cancel()
	if _, err := db.pool.Exec(ctx, `UPDATE outbox SET lease_owner = NULL, lease_until = NULL
		WHERE id = $1 AND lease_owner = $2`, int64(id), db.owner); err != nil {
		db.log.Debug("outbox release", "id", id, "error", err)
	}
}

// Leased counts the running leases this handle holds.
func (db *DB) Leased() int {
	ctx, cancel, err := db.op()
	if err != nil {
		return 0
	}
	defer cancel()
	var n int
	if err := db.pool.QueryRow(ctx, `SELECT count(*) FROM outbox WHERE lease_owner = $1 AND lease_until > $2`,
		db.owner, store.TimeNano(time.Now())).Scan(&n); err != nil {
		return 0
	}
	return n
}

// NextDue returns the earliest time a Claim may return a record.
func (db *DB) NextDue(ctx context.Context) (time.Time, bool, error) {
	ctx, cancel, err := db.read(ctx)
	if err != nil {
		return time.Time{}, false, err
	}
	defer cancel()
	var next *int64
	err = db.pool.QueryRow(ctx, `SELECT least(
		(SELECT min(next_attempt) FROM outbox WHERE lease_until IS NULL),
		(SELECT min(greatest(next_attempt, lease_until)) FROM outbox WHERE lease_until IS NOT NULL))`).Scan(&next)
	if err != nil {
		return time.Time{}, false, fmt.Errorf("next due: %w", err)
	}
	if next == nil {
		return time.Time{}, false, nil
	}
	return store.NanoTime(*next), true, nil
}

// Done deletes a record the relay accepted, whoever holds its lease.
func (db *DB) Done(id uint64) error {
	ctx, cancel, err := db.op()
	if err != nil {
		return err
	}
	defer cancel()
	tag, err := db.pool.Exec(ctx, `DELETE FROM outbox WHERE id = $1`, int64(id))
	if err != nil {
		return fmt.Errorf("outbox done: %w", err)
	}
	if tag.RowsAffected() == 0 {
		return fmt.Errorf("outbox done: record %d: %w", id, store.ErrNotFound)
	}
	return nil
}

// Retry records a failed attempt and ends the lease. A record whose lease
// ran out and that another worker claimed meanwhile is left to that one
// (ErrLeased).
func (db *DB) Retry(id uint64, next time.Time, lastErr string) error {
	return db.update("outbox retry", id, true, `UPDATE outbox SET attempts = attempts + 1, last_error = $4,
		next_attempt = $3, lease_owner = NULL, lease_until = NULL
		WHERE id = $1 AND (lease_owner IS NULL OR lease_owner = $2 OR lease_until IS NULL OR lease_until <= $5)`,
		int64(id), db.owner, store.TimeNano(next), by(lastErr), store.TimeNano(time.Now()))
}

// Reschedule makes id due at next without counting an attempt, ending
// any lease, and wakes the relays.
func (db *DB) Reschedule(id uint64, next time.Time) error {
	return db.update("outbox reschedule", id, false, `UPDATE outbox SET next_attempt = $2, lease_owner = NULL, lease_until = NULL
		WHERE id = $1`, int64(id), store.TimeNano(next))
}

// RescheduleIdle is Reschedule for a record no replica holds a running
// lease on; a leased one fails with ErrLeased.
func (db *DB) RescheduleIdle(id uint64, next time.Time) error {
	return db.update("outbox reschedule", id, true, `UPDATE outbox SET next_attempt = $2, lease_owner = NULL, lease_until = NULL
		WHERE id = $1 AND (lease_until IS NULL OR lease_until <= $3)`, int64(id), store.TimeNano(next), store.TimeNano(time.Now()))
}

// update runs an UPDATE of record id; when it changed nothing the record
// is missing (ErrNotFound) or, if leasable, leased (ErrLeased). A
// reschedule notifies the relays.
func (db *DB) update(what string, id uint64, leasable bool, sql string, args ...any) error {
	ctx, cancel, err := db.op()
	if err != nil {
		return err
	}
	defer cancel()
	b := &pgx.Batch{}
	var n int64
	b.Queue(sql, args...).Exec(func(tag pgconn.CommandTag) error {
		n = tag.RowsAffected()
		return nil
	})
	b.Queue(`SELECT pg_notify($1, $2)`, notifyChannel, db.owner)
	if err := db.pool.SendBatch(ctx, b).Close(); err != nil {
		return fmt.Errorf("%s: %w", what, err)
	}
	if n > 0 {
		db.signal()
		return nil
	}
	var exists bool
	if err := db.pool.QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM outbox WHERE id = $1)`, int64(id)).Scan(&exists); err != nil {
		return fmt.Errorf("%s: %w", what, err)
	}
	if exists && leasable {
		return fmt.Errorf("%s: record %d: %w", what, id, store.ErrLeased)
	}
	return fmt.Errorf("%s: record %d: %w", what, id, store.ErrNotFound)
}

// Drop moves a record to the dropped list (without its message), keeping
// the newest 1000 there.
func (db *DB) Drop(id uint64, why string) error {
	ctx, cancel, err := db.op()
	if err != nil {
		return err
	}
	defer cancel()
	b := &pgx.Batch{}
	var n int64
	b.Queue(`WITH d AS (DELETE FROM outbox WHERE id = $1
			RETURNING id, kind, usr, mail_from, rcpt, attempts, queued, next_attempt, last_error)
		INSERT INTO outbox_dropped SELECT d.*, $2, $3 FROM d`, int64(id), store.TimeNano(time.Now()), by(why)).Exec(func(tag pgconn.CommandTag) error {
		n = tag.RowsAffected()
		return nil
	})
	b.Queue(`DELETE FROM outbox_dropped WHERE id < (SELECT id FROM outbox_dropped ORDER BY id DESC OFFSET $1 LIMIT 1)`, maxDropped-1)
	if err := db.pool.SendBatch(ctx, b).Close(); err != nil {
		return fmt.Errorf("outbox drop: %w", err)
	}
	if n == 0 {
		return fmt.Errorf("outbox drop: record %d: %w", id, store.ErrNotFound)
	}
	return nil
}

// ListOutbox lists every record by ID.
func (db *DB) ListOutbox() ([]store.OutboxRecord, error) {
	ctx, cancel, err := db.op()
	if err != nil {
		return nil, err
	}
	defer cancel()
	return db.records(ctx, "list outbox", `SELECT `+recordColumns+` FROM outbox ORDER BY id`)
}

// ListDropped lists the kept dropped records, oldest first.
func (db *DB) ListDropped() ([]store.DroppedRecord, error) {
	ctx, cancel, err := db.op()
	if err != nil {
		return nil, err
	}
	defer cancel()
	rows, err := db.pool.Query(ctx, `SELECT id, kind, usr, mail_from, rcpt, attempts, queued, next_attempt, last_error, dropped, reason
		FROM outbox_dropped ORDER BY id`)
	if err != nil {
		return nil, fmt.Errorf("list dropped: %w", err)
	}
	out, err := pgx.CollectRows(rows, func(row pgx.CollectableRow) (store.DroppedRecord, error) {
		var (
			d                           store.DroppedRecord
			id, q, next, dropped        int64
			user, from, lastErr, reason []byte
			to                          [][]byte
		)
		err := row.Scan(&id, &d.Record.Kind, &user, &from, &to, &d.Record.Attempts,
			&q, &next, &lastErr, &dropped, &reason)
		d.Record.ID, d.Record.Queued, d.Record.NextAttempt, d.Dropped = uint64(id), store.NanoTime(q), store.NanoTime(next), store.NanoTime(dropped)
		d.Record.User, d.Record.From, d.Record.To, d.Record.LastError, d.Reason = string(user), string(from), strs(to), string(lastErr), string(reason)
		return d, err
	})
	if err != nil {
		return nil, fmt.Errorf("list dropped: %w", err)
	}
	return out, nil
}

// OutboxStats returns the number of records and the age at now of the
// one with the lowest ID.
func (db *DB) OutboxStats(now time.Time) (depth int, oldest time.Duration, err error) {
	ctx, cancel, err := db.op()
	if err != nil {
		return 0, 0, err
	}
	defer cancel()
	var q *int64
	err = db.pool.QueryRow(ctx, `SELECT (SELECT count(*) FROM outbox), (SELECT queued FROM outbox ORDER BY id LIMIT 1)`).Scan(&depth, &q)
	if err != nil {
		return 0, 0, fmt.Errorf("outbox stats: %w", err)
	}
	if q != nil {
		oldest = max(now.Sub(store.NanoTime(*q)), 0)
	}
	return depth, oldest, nil
}
