// Package postgres is vacationd's state in PostgreSQL, for several
// replicas sharing it: it implements [store.State] with the same
// guarantees as the embedded bbolt store (see store/state.go), and passes
// the same contract suite (store/storetest).
//
// # Guarantees
//
// Every write is one transaction, committed before the call returns; with
// synchronous_commit = on (the default) it is then on disk, and with a
// synchronous standby on both. A Commit's statements travel as one
// pipelined batch (one round trip); concurrent deliveries use the pool's
// connections in parallel, and PostgreSQL flushes their commits together
// (group commit in the WAL writer). When the connection breaks while a
// write is in flight its outcome is unknown, as with a failed fsync.
//
// "One reply per key" is decided by the database: an exclusive mark is an
// INSERT ... ON CONFLICT DO UPDATE ... WHERE the stored mark has expired,
// in the same statement as its reply's INSERT, so of two replicas racing
// for a key the second waits for the first's row and then finds it live.
//
// Outbox claims are UPDATE ... FOR UPDATE SKIP LOCKED setting a lease
// (owner, until): replicas never block each other, and a dead replica's
// claims are taken again once their lease ends. Commits NOTIFY a channel
// that every replica LISTENs on, so relays wake at once; a relay also
// wakes at NextDue, so a lost notification only delays.
//
// Dedup sweeps run under an advisory lock: one replica sweeps, the others
// return at once.
//
// The backscatter limits' counts ([store.ReplyLimits]) are rows counted
// and inserted under transaction-scoped advisory locks, so they hold
// across replicas (see replylimits.go).
package postgres

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/vacationd/vacationd/store"
)

// notifyChannel is the LISTEN/NOTIFY channel of outbox commits.
const notifyChannel = "vacationd_outbox"

// sweepLock is the advisory lock key of dedup sweeps.
const sweepLock = 0x73776570 // "swep"

// DefaultOpTimeout bounds calls that take no context.
const DefaultOpTimeout = 10 * time.Second

// Options configure [Open].
type Options struct {
	// Logger receives background errors (sweeps, the listener).
	Logger *slog.Logger
	// OpTimeout bounds each call that takes no context; zero means
	// DefaultOpTimeout.
	OpTimeout time.Duration
	// NoMigrate makes Open fail on a database without the current schema
	// instead of applying the missing migrations.
	NoMigrate bool
}

// DB is vacationd's state in one PostgreSQL database. It is safe for
// concurrent use, and any number of processes may open the same database.
type DB struct {
	pool    *pgxpool.Pool
	log     *slog.Logger
	timeout time.Duration
	owner   string // this handle's lease owner name

	queued       chan struct{}
	closed       atomic.Bool
	commitFailed atomic.Uint64 // see CommitFailures
	repliesSwept atomic.Int64  // the now of the last reply limits sweep, Unix nanoseconds
	stop         context.CancelFunc
	wg           sync.WaitGroup
}

var _ store.State = (*DB)(nil)

// IsURL reports whether s names a PostgreSQL database (postgres:// or
// postgresql://).
func IsURL(s string) bool {
	return strings.HasPrefix(s, "postgres://") || strings.HasPrefix(s, "postgresql://")
}

// NewPool connects a pool to url. Unless the URL sets pool_max_conns, the
// pool holds up to 32 connections: deliveries wait for a free one.
func NewPool(ctx context.Context, url string) (*pgxpool.Pool, error) {
	cfg, err := pgxpool.ParseConfig(url)
	if err != nil {
		return nil, fmt.Errorf("postgres: %w", err) // pgx leaves the password out
	}
	if !strings.Contains(url, "pool_max_conns") {
		cfg.MaxConns = 32
	}
	pool, err := pgxpool.NewWithConfig(ctx, cfg)
	if err != nil {
		return nil, fmt.Errorf("postgres: %w", err)
	}
	return pool, nil
}

// Open connects to the database at url (postgres://...), applies missing
// schema migrations (see [Migrate]) and starts listening for other
// replicas' commits. While the server cannot be reached it retries until
// ctx ends. It does not fail when the database is down after the
// migrations: calls fail until it is back, and the pool reconnects.
func Open(ctx context.Context, url string, opts Options) (*DB, error) {
	pool, err := NewPool(ctx, url)
	if err != nil {
		return nil, err
	}
	// The database may still be starting (replicas and PostgreSQL brought
	// up together): retry while ctx allows.
	for wait := 100 * time.Millisecond; ; wait = min(2*wait, 2*time.Second) {
		if opts.NoMigrate {
			err = checkSchema(ctx, pool)
		} else {
			_, err = Migrate(ctx, pool)
		}
		if err == nil || !unreachable(err) {
			break
		}
		select {
		case <-ctx.Done():
		case <-time.After(wait):
			continue
		}
		break
	}
	if err != nil {
		pool.Close()
		return nil, err
	}
	var id [6]byte
	rand.Read(id[:])
	db := &DB{
		pool:    pool,
		log:     opts.Logger,
		timeout: opts.OpTimeout,
		owner:   hex.EncodeToString(id[:]),
		queued:  make(chan struct{}, 1),
	}
	if db.log == nil {
		db.log = slog.Default()
	}
	if db.timeout <= 0 {
		db.timeout = DefaultOpTimeout
	}
	bg, stop := context.WithCancel(context.Background())
	db.stop = stop
	db.wg.Add(1)
	go func() {
		defer db.wg.Done()
		db.listen(bg, pool.Config().ConnConfig)
	}()
	return db, nil
}

// unreachable reports whether err is a failure to reach the server (as
// opposed to an answer from it, such as a refused login or a bad schema).
func unreachable(err error) bool {
	var pe *pgconn.PgError
	if errors.As(err, &pe) {
		return pe.Code == "57P03" // cannot_connect_now: the server is starting up
	}
	var ce *pgconn.ConnectError
	return errors.As(err, &ce)
}

// checkSchema fails unless the database has exactly this build's schema.
func checkSchema(ctx context.Context, pool *pgxpool.Pool) error {
	var v int
	err := pool.QueryRow(ctx, `SELECT coalesce(max(version), 0) FROM vacationd_schema`).Scan(&v)
	if err != nil {
		return fmt.Errorf("postgres: schema version: %w (run vacationd migrate)", err)
	}
	if v != SchemaVersion() {
		return fmt.Errorf("postgres: schema version %d, this vacationd needs %d (run vacationd migrate)", v, SchemaVersion())
	}
	return nil
}

// Close stops the listener and closes the pool, waiting for calls in
// flight. Later calls fail with ErrClosed. Close is idempotent.
func (db *DB) Close() error {
	if db.closed.Swap(true) {
		return nil
	}
	db.stop()
	db.wg.Wait()
	db.pool.Close()
	return nil
}

// Ping reports whether the database answers a query.
func (db *DB) Ping(ctx context.Context) error {
	if db.closed.Load() {
		return store.ErrClosed
	}
	ctx, cancel := context.WithTimeout(ctx, db.timeout)
	defer cancel()
	if _, err := db.pool.Exec(ctx, `SELECT 1`); err != nil {
		return fmt.Errorf("postgres: %w", err)
	}
	return nil
}

// op returns the context for a call without one, or ErrClosed.
func (db *DB) op() (context.Context, context.CancelFunc, error) {
	if db.closed.Load() {
		return nil, nil, store.ErrClosed
	}
	ctx, cancel := context.WithTimeout(context.Background(), db.timeout)
	return ctx, cancel, nil
}

// started returns the context a write runs under once ctx allowed it to
// start: not ctx itself, since a write cancelled midway has an unknown
// outcome, and the contract promises a known one once started.
func (db *DB) started(ctx context.Context) (context.Context, context.CancelFunc, error) {
	if db.closed.Load() {
		return nil, nil, store.ErrClosed
	}
	if err := ctx.Err(); err != nil {
		return nil, nil, err
	}
	c, cancel := context.WithTimeout(context.WithoutCancel(ctx), db.timeout)
	return c, cancel, nil
}

// read returns the context for a read under ctx, or ErrClosed.
func (db *DB) read(ctx context.Context) (context.Context, context.CancelFunc, error) {
	if db.closed.Load() {
		return nil, nil, store.ErrClosed
	}
	c, cancel := context.WithTimeout(ctx, db.timeout)
	return c, cancel, nil
}

// Queued is signalled after this handle's Commits that stored records and
// after NOTIFYs from other replicas' Commits and Reschedules.
func (db *DB) Queued() <-chan struct{} { return db.queued }

func (db *DB) signal() {
	select {
	case db.queued <- struct{}{}:
	default:
	}
}

// foreignWake is how often at most notifications of other replicas'
// commits wake this one's relay. The replica that committed a record
// claims it at once (its Commit signals it); the others need only pick up
// records a dead or relay-less replica left, and an operator's retry, so
// they need not all race for every record.
const foreignWake = 250 * time.Millisecond

// listen holds a connection LISTENing on the commit channel, reconnecting
// with backoff while the database is down, until ctx ends. After every
// reconnect it signals once, since commits may have been missed.
func (db *DB) listen(ctx context.Context, cfg *pgx.ConnConfig) {
	var foreign atomic.Bool
	db.wg.Add(1)
	go func() {
		defer db.wg.Done()
		t := time.NewTicker(foreignWake)
		defer t.Stop()
		for {
			select {
			case <-ctx.Done():
				return
			case <-t.C:
				if foreign.Swap(false) {
					db.signal()
				}
			}
		}
	}()
	backoff := 100 * time.Millisecond
	for ctx.Err() == nil {
		err := db.listenOnce(ctx, cfg, &foreign, func() { backoff = 100 * time.Millisecond })
		if ctx.Err() != nil {
			return
		}
		db.log.Debug("postgres listener", "error", err)
		select {
		case <-ctx.Done():
			return
		case <-time.After(backoff):
		}
		backoff = min(2*backoff, 5*time.Second)
	}
}

func (db *DB) listenOnce(ctx context.Context, cfg *pgx.ConnConfig, foreign *atomic.Bool, connected func()) error {
	conn, err := pgx.ConnectConfig(ctx, cfg.Copy())
	if err != nil {
		return err
	}
	defer conn.Close(context.Background())
	if _, err := conn.Exec(ctx, "LISTEN "+notifyChannel); err != nil {
		return err
	}
	connected()
	db.signal()
	for {
		n, err := conn.WaitForNotification(ctx)
		if err != nil {
			return err
		}
		if n.Payload != db.owner { // our own commits signalled already
			foreign.Store(true)
		}
	}
}

// noRows maps pgx's "no rows" to ErrNotFound.
func noRows(err error, what string) error {
	if errors.Is(err, pgx.ErrNoRows) {
		return fmt.Errorf("%s: %w", what, store.ErrNotFound)
	}
	return fmt.Errorf("%s: %w", what, err)
}

// PoolStats describe the connection pool, for metrics.
type PoolStats struct {
	Acquired, Idle, Max int32
	// EmptyAcquires counts acquisitions that had to wait for a
	// connection: deliveries queueing for the pool.
	EmptyAcquires int64
}

// PoolStats returns the pool's figures now.
func (db *DB) PoolStats() PoolStats {
	s := db.pool.Stat()
	return PoolStats{Acquired: s.AcquiredConns(), Idle: s.IdleConns(), Max: s.MaxConns(), EmptyAcquires: s.EmptyAcquireCount()}
}
