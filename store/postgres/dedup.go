package postgres

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/vacationd/vacationd/store"
)

// sweepChunk bounds the deletions of one sweep transaction.
const sweepChunk = 10000

// Seen reports whether a live mark for k exists (now < Expires).
func (db *DB) Seen(ctx context.Context, k store.DedupKey, now time.Time) (bool, error) {
	if err := store.CheckKey(k); err != nil {
		return false, err
	}
	ctx, cancel, err := db.read(ctx)
	if err != nil {
		return false, err
	}
	defer cancel()
	var exp int64
	err = db.pool.QueryRow(ctx, `SELECT expires FROM dedup WHERE usr = $1 AND sender = $2 AND handle = $3`,
		by(strings.ToLower(k.User)), by(strings.ToLower(k.Sender)), by(k.Handle)).Scan(&exp)
	switch {
	case errors.Is(err, pgx.ErrNoRows):
		return false, nil
	case err != nil:
		return false, fmt.Errorf("seen: %w", err)
	}
	return store.TimeNano(now) < exp, nil
}

// ListDedup lists user's marks (only sender's when not ""), by sender and
// handle, expired-but-unswept ones included.
func (db *DB) ListDedup(user, sender string) ([]store.DedupRecord, error) {
	if err := store.CheckUserSender(user, sender); err != nil {
		return nil, err
	}
	ctx, cancel, err := db.op()
	if err != nil {
		return nil, err
	}
	defer cancel()
	rows, err := db.pool.Query(ctx, `SELECT usr, sender, handle, created, expires FROM dedup
		WHERE usr = $1 AND (length($2::bytea) = 0 OR sender = $2::bytea) ORDER BY sender, handle`,
		by(strings.ToLower(user)), by(strings.ToLower(sender)))
	if err != nil {
		return nil, fmt.Errorf("list dedup for %q: %w", user, err)
	}
	out, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (store.DedupRecord, error) {
		var (
			d       store.DedupRecord
			u, s, h []byte
			cr, ex  int64
		)
		err := r.Scan(&u, &s, &h, &cr, &ex)
		d.Key = store.DedupKey{User: string(u), Sender: string(s), Handle: string(h)}
		d.Created, d.Expires = store.NanoTime(cr), store.NanoTime(ex)
		return d, err
	})
	if err != nil {
		return nil, fmt.Errorf("list dedup for %q: %w", user, err)
	}
	return out, nil
}

// ForgetDedup deletes user's marks (only sender's when not "").
func (db *DB) ForgetDedup(user, sender string) (int, error) {
	if err := store.CheckUserSender(user, sender); err != nil {
		return 0, err
	}
	ctx, cancel, err := db.op()
	if err != nil {
		return 0, err
	}
	defer cancel()
	tag, err := db.pool.Exec(ctx, `DELETE FROM dedup WHERE usr = $1 AND (length($2::bytea) = 0 OR sender = $2::bytea)`,
		by(strings.ToLower(user)), by(strings.ToLower(sender)))
	if err != nil {
		return 0, fmt.Errorf("forget dedup for %q: %w", user, err)
	}
	return int(tag.RowsAffected()), nil
}

// Sweep deletes marks with Expires <= now in chunks, under an advisory
// lock: while another replica sweeps it returns 0 at once.
func (db *DB) Sweep(now time.Time) (int, error) {
	total := 0
	for {
		ctx, cancel, err := db.op()
		if err != nil {
			return total, err
		}
		var (
			got bool
			n   int64
		)
		err = pgx.BeginFunc(ctx, db.pool, func(tx pgx.Tx) error {
			if err := tx.QueryRow(ctx, `SELECT pg_try_advisory_xact_lock($1)`, sweepLock).Scan(&got); err != nil || !got {
				return err
			}
			tag, err := tx.Exec(ctx, `DELETE FROM dedup WHERE ctid = ANY (ARRAY(
				SELECT ctid FROM dedup WHERE expires <= $1 LIMIT $2))`, store.TimeNano(now), sweepChunk)
			n = tag.RowsAffected()
			return err
		})
		cancel()
		if err != nil {
			return total, fmt.Errorf("sweep: %w", err)
		}
		total += int(n)
		if !got || n < sweepChunk {
			return total, nil
		}
	}
}

// RunSweeper calls Sweep(now()) at once and then every interval until ctx
// ends, logging errors.
func (db *DB) RunSweeper(ctx context.Context, every time.Duration, now func() time.Time) {
	store.RunSweeper(ctx, every, now, db.Sweep, db.log)
}

// DedupCount returns the number of stored marks.
func (db *DB) DedupCount() (int, error) {
	ctx, cancel, err := db.op()
	if err != nil {
		return 0, err
	}
	defer cancel()
	var n int
	if err := db.pool.QueryRow(ctx, `SELECT count(*) FROM dedup`).Scan(&n); err != nil {
		return 0, fmt.Errorf("dedup count: %w", err)
	}
	return n, nil
}
