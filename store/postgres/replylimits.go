package postgres

import (
	"context"
	"fmt"
	"hash/fnv"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/vacationd/vacationd/store"
)

// The backscatter limits' counts are rows of reply_limits, one per reply
// allowed. AllowReply is one pipelined batch, so one implicit transaction
// and one round trip: it takes transaction-scoped advisory locks, on the
// per-minute count (when that limit is on) and then on the key (when the
// per-address limit is on), always in that order, so callers never
// deadlock; then one statement counts the rows in each window and inserts
// the reply when both counts are under their limits. Under READ COMMITTED
// that statement's snapshot is taken after the locks are held, and a
// holder's rows are committed before its locks are released, so the next
// holder counts them: of replicas racing for the last reply exactly one
// inserts it. Calls for different keys with the per-minute limit off do
// not wait for each other. The per-minute lock serializes every reply that
// limit counts, one short transaction each.

var _ store.ReplyLimits = (*DB)(nil)

// The advisory lock classes of the reply limits (the two-key form of
// pg_advisory_xact_lock, apart from the one-key locks of sweeps and
// migrations): the per-minute count is (replyMinuteLock, 0), a key is
// (replyAddressLock, hash of the key). Two keys sharing a hash only wait
// for each other.
const (
	replyMinuteLock  = 0x72706c6d // "rplm"
	replyAddressLock = 0x72706c61 // "rpla"
)

// allowReply counts the replies in both windows, up to the limit (a
// window whose limit is off is not counted), and inserts the reply when
// both are under their limits; $1 key, $2 now, $3 per address, $4 per
// minute, $5 and $6 the windows.
const allowReply = `WITH m AS (
	SELECT count(*) AS n FROM (SELECT FROM reply_limits
		WHERE $4::int > 0 AND sent > $2::bigint - $5::bigint LIMIT $4::int) w
), a AS (
	SELECT count(*) AS n FROM (SELECT FROM reply_limits
		WHERE $3::int > 0 AND addr = $1::bytea AND sent > $2::bigint - $6::bigint LIMIT $3::int) w
), ins AS (
	INSERT INTO reply_limits (addr, sent) SELECT $1::bytea, $2::bigint FROM m, a
	WHERE ($4::int = 0 OR m.n < $4::int) AND ($3::int = 0 OR a.n < $3::int)
	RETURNING 1
)
SELECT m.n, a.n FROM m, a`

// AllowReply implements [store.ReplyLimits]. It ends with ctx (unlike a
// Commit, whose outcome must be known): a caller falls back to its own
// counts rather than wait, and a reply counted by a call cut short is one
// more than the shared count should hold, never one less. About once a
// minute of now a call also deletes the rows older than the hour window.
func (db *DB) AllowReply(ctx context.Context, key string, now time.Time, perAddress, perMinute int) (store.ReplyLimit, int, error) {
	if err := store.CheckReplyLimit(key, perAddress, perMinute); err != nil {
		return 0, 0, err
	}
	ctx, cancel, err := db.read(ctx) // a call cut short errs on the side of the limits
	if err != nil {
		return 0, 0, err
	}
	defer cancel()
	b := &pgx.Batch{}
	// The count need not survive a crash (one lost admits one more reply
	// in the window), so the commit does not wait for the WAL flush: an
	// fsync per reply, on top of the Commit's own, cost a third of the
	// replies per second (bench/state.sh).
	b.Queue(`SELECT set_config('synchronous_commit', 'off', true)`)
	if dl, ok := ctx.Deadline(); ok && (perMinute > 0 || perAddress > 0) {
		// The server gives up waiting for the locks before ctx ends:
		// a connection closed by ctx would not stop it, and it would
		// count the reply once it got them.
		b.Queue(`SELECT set_config('lock_timeout', $1, true)`, fmt.Sprintf("%dms", max(time.Until(dl).Milliseconds()*9/10, 1)))
	}
	if perMinute > 0 {
		b.Queue(`SELECT pg_advisory_xact_lock($1::int, 0)`, replyMinuteLock)
	}
	if perAddress > 0 {
		b.Queue(`SELECT pg_advisory_xact_lock($1::int, $2::int)`, replyAddressLock, keyHash(key))
	}
	var inMinute, toKey int
	b.Queue(allowReply, by(key), store.TimeNano(now), perAddress, perMinute,
		int64(store.ReplyMinuteWindow), int64(store.ReplyAddressWindow)).QueryRow(func(row pgx.Row) error {
		return row.Scan(&inMinute, &toKey)
	})
	if err := db.pool.SendBatch(ctx, b).Close(); err != nil {
		return 0, 0, fmt.Errorf("allow reply to %q: %w", key, err)
	}
	db.sweepReplies(ctx, now)
	switch {
	case perMinute > 0 && inMinute >= perMinute:
		return store.ReplyPerMinute, inMinute, nil
	case perAddress > 0 && toKey >= perAddress:
		return store.ReplyPerAddress, toKey, nil
	}
	return store.ReplyAllowed, 0, nil
}

// RefundReply implements [store.ReplyLimits].
func (db *DB) RefundReply(ctx context.Context, key string, now time.Time) error {
	if err := store.CheckReplyLimit(key, 0, 0); err != nil {
		return err
	}
	ctx, cancel, err := db.read(ctx) // a call cut short errs on the side of the limits
	if err != nil {
		return err
	}
	defer cancel()
	_, err = db.pool.Exec(ctx, `DELETE FROM reply_limits WHERE id = (
		SELECT id FROM reply_limits WHERE addr = $1 AND sent = $2 LIMIT 1 FOR UPDATE SKIP LOCKED)`,
		by(key), store.TimeNano(now))
	if err != nil {
		return fmt.Errorf("refund reply to %q: %w", key, err)
	}
	return nil
}

// sweepReplies deletes the rows older than the hour window at now when
// this handle last did it a minute of now ago or more (or never). Any
// number of replicas may sweep at once; a failure is logged, and the next
// call a minute later tries again.
func (db *DB) sweepReplies(ctx context.Context, now time.Time) {
	last := db.repliesSwept.Load()
	if now.UnixNano()-last < int64(store.ReplyMinuteWindow) || !db.repliesSwept.CompareAndSwap(last, now.UnixNano()) {
		return
	}
	_, err := db.pool.Exec(ctx, `DELETE FROM reply_limits WHERE sent <= $1`, store.TimeNano(now.Add(-store.ReplyAddressWindow)))
	if err != nil {
		db.log.Warn("postgres: sweeping reply limits", "error", err)
	}
}

// keyHash is the advisory lock of key.
func keyHash(key string) int32 {
	h := fnv.New32a()
	h.Write([]byte(key))
	return int32(h.Sum32())
}
