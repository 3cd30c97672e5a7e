package store

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"sync"
	"time"

	bolt "go.etcd.io/bbolt"
	berrors "go.etcd.io/bbolt/errors"
)

// Errors returned by the store. They are wrapped with context; test with
// [errors.Is].
var (
	// ErrLocked means another process holds the database file lock.
	ErrLocked = errors.New("database is locked by another process")
	// ErrClosed means the DB has been closed.
	ErrClosed = errors.New("database is closed")
	// ErrNotFound means the record, script or key does not exist.
	ErrNotFound = errors.New("not found")
	// ErrInvalid means an argument failed validation; the message names it.
	ErrInvalid = errors.New("invalid argument")
	// ErrLeased means a relay worker (of any replica) is sending the
	// record.
	ErrLeased = errors.New("being sent")
)

// DefaultLockTimeout is how long [Open] waits for the file lock when
// [Options.Timeout] is zero.
const DefaultLockTimeout = time.Second

// schemaVersion is stored in the meta bucket; Open refuses other versions.
const schemaVersion = 1

var (
	bucketMeta          = []byte("meta")
	bucketDedup         = []byte("dedup")
	bucketDedupExp      = []byte("dedup_exp")
	bucketOutbox        = []byte("outbox")
	bucketOutboxDue     = []byte("outbox_due")
	bucketOutboxDropped = []byte("outbox_dropped")
	bucketScripts       = []byte("scripts")
	bucketScriptsActive = []byte("scripts_active")

	keySchema = []byte("schema")
	keyProbe  = []byte("health_probe") // written by Ping after a failed commit
)

// Options configure [Open].
type Options struct {
	// NoSync skips fsync on commit. Tests only: with it set, a crash of the
	// machine (not just the process) can lose acknowledged writes.
	NoSync bool
	// Timeout is how long to wait for the exclusive file lock before failing
	// with ErrLocked. Zero means DefaultLockTimeout; negative means fail at
	// once.
	Timeout time.Duration
	// Logger receives errors from background work (RunSweeper). Nil means
	// slog.Default().
	Logger *slog.Logger
	// MaxBatch caps how many write calls share one transaction. Zero means
	// 1024.
	MaxBatch int
	// DoneDelay is how long [DB.Done] may wait for a transaction that
	// another write starts before it starts one of its own. Zero means
	// DefaultDoneDelay; negative means no wait.
	DoneDelay time.Duration
}

// DefaultDoneDelay is the [Options.DoneDelay] used when it is zero.
const DefaultDoneDelay = 50 * time.Millisecond

// DB is an open vacationd database. It is safe for concurrent use by
// multiple goroutines. Close it when done; Close waits for writes in flight.
type DB struct {
	bolt *bolt.DB
	path string
	log  *slog.Logger
	w    *writer

	leaseMu sync.Mutex
	leased  map[uint64]time.Time // record ID -> end of its lease

	queued chan struct{}

	// testHook, when set (by tests in this package), is called inside the
	// write transaction of Commit after the marks and before the outbox
	// records are written; an error from it fails that Commit.
	testHook func(marks []Mark, recs []*OutboxRecord) error
}

// Open opens or creates the database file at path and creates any missing
// buckets. It fails with an error wrapping ErrLocked if another process has
// the file open, and refuses a file written by an incompatible schema.
func Open(path string, opts Options) (*DB, error) {
	timeout := opts.Timeout
	switch {
	case timeout == 0:
		timeout = DefaultLockTimeout
	case timeout < 0:
		timeout = time.Nanosecond
	}
	bo := &bolt.Options{
		Timeout: timeout,
		// The map freelist is O(1) for allocation and release. It is
		// synced (written with every commit, a page or a few): without it
		// bbolt rebuilds the freelist at open by reading every page of the
		// file, which took 305 ms and 456 MiB of RSS for a million marks.
		// A file written without a synced freelist is scanned once and
		// gets one at this open.
		FreelistType: bolt.FreelistMapType,
		NoSync:       opts.NoSync,
	}
	b, err := bolt.Open(path, 0o600, bo)
	if err != nil {
		if errors.Is(err, berrors.ErrTimeout) {
			return nil, fmt.Errorf("open %s: %w (is vacationd serve running?)", path, ErrLocked)
		}
		return nil, fmt.Errorf("open %s: %w", path, err)
	}
	err = b.Update(func(tx *bolt.Tx) error {
		for _, name := range [][]byte{bucketMeta, bucketDedup, bucketDedupExp, bucketOutbox,
			bucketOutboxDue, bucketOutboxDropped, bucketScripts, bucketScriptsActive} {
			if _, err := tx.CreateBucketIfNotExists(name); err != nil {
				return fmt.Errorf("create bucket %s: %w", name, err)
			}
		}
		meta := tx.Bucket(bucketMeta)
		if v := meta.Get(keySchema); v != nil {
			if len(v) != 1 || v[0] != schemaVersion {
				return fmt.Errorf("schema version %v, want %d", v, schemaVersion)
			}
			return nil
		}
		return meta.Put(keySchema, []byte{schemaVersion})
	})
	if err != nil {
		b.Close()
		return nil, fmt.Errorf("open %s: %w", path, err)
	}
	log := opts.Logger
	if log == nil {
		log = slog.Default()
	}
	maxBatch := opts.MaxBatch
	if maxBatch <= 0 {
		maxBatch = 1024
	}
	db := &DB{
		bolt:   b,
		path:   path,
		log:    log,
		leased: make(map[uint64]time.Time),
		queued: make(chan struct{}, 1),
	}
	doneDelay := opts.DoneDelay
	switch {
	case doneDelay == 0:
		doneDelay = DefaultDoneDelay
	case doneDelay < 0:
		doneDelay = 0
	}
	db.w = newWriter(b, maxBatch, doneDelay)
	return db, nil
}

// Path returns the file the DB was opened from.
func (db *DB) Path() string { return db.path }

// Close waits for write calls already queued to finish, then closes the
// file. Later calls fail with ErrClosed. Close is idempotent.
func (db *DB) Close() error {
	if !db.w.close() {
		return nil
	}
	if err := db.bolt.Close(); err != nil {
		return fmt.Errorf("close %s: %w", db.path, err)
	}
	return nil
}

// Ping reports whether the database answers and takes writes, for health
// checks: it runs a read transaction that checks the buckets exist, and
// when the last commit failed (a full disk, an I/O error) it probes: the
// file system must have room for the next growth of the file (bbolt's
// AllocSize, reserved in a scratch file next to it and released), and a
// small write must commit. Ping fails until a commit succeeds again,
// whether the probe's or anyone else's.
func (db *DB) Ping(ctx context.Context) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	if db.w.isClosed() {
		return ErrClosed
	}
	err := db.view(func(tx *bolt.Tx) error {
		if tx.Bucket(bucketOutbox) == nil || tx.Bucket(bucketDedup) == nil {
			return errors.New("buckets missing")
		}
		return nil
	})
	if err != nil {
		return err
	}
	if db.w.lastCommitErr() == nil {
		return nil
	}
	if err := db.room(); err != nil {
		return fmt.Errorf("%s: commits fail: %w", db.path, err)
	}
	ctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	err = db.w.do(ctx, func(tx *bolt.Tx) error {
		return tx.Bucket(bucketMeta).Put(keyProbe, []byte(time.Now().UTC().Format(time.RFC3339Nano)))
	})
	if err != nil {
		return fmt.Errorf("%s: commits fail: %w", db.path, err)
	}
	return nil
}

// room checks that the file system has room for the file to grow by
// bbolt's allocation step: a commit that needs the file to grow fails
// without it, while one that fits in free pages still passes.
func (db *DB) room() error {
	f, err := os.CreateTemp(filepath.Dir(db.path), ".vacationd-room-*")
	if err != nil {
		return fmt.Errorf("room check: %w", err)
	}
	defer os.Remove(f.Name())
	defer f.Close()
	if err := reserve(f, int64(db.bolt.AllocSize)); err != nil {
		return fmt.Errorf("room check: no room for %d more bytes: %w", db.bolt.AllocSize, err)
	}
	return nil
}

// view runs fn in a read-only transaction, mapping bbolt's closed error.
func (db *DB) view(fn func(*bolt.Tx) error) error {
	err := db.bolt.View(fn)
	if errors.Is(err, berrors.ErrDatabaseNotOpen) {
		return ErrClosed
	}
	return err
}

// Check runs bbolt's consistency check over the whole file and returns the
// first problem found. For tests and operators; it reads every page, and
// runs in the writer's place (bbolt's checker reads the freelist, which a
// concurrent write transaction would modify), so writes wait for it.
func (db *DB) Check() error {
	return db.w.do(context.Background(), func(tx *bolt.Tx) error {
		var first error
		for err := range tx.Check() { // drain: the checker runs until closed
			if first == nil {
				first = fmt.Errorf("check %s: %w", db.path, err)
			}
		}
		return first
	})
}
