package store

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"time"

	bolt "go.etcd.io/bbolt"
	berrors "go.etcd.io/bbolt/errors"
)

// writer is the group committer behind every write. Callers enqueue a
// function; one goroutine takes everything queued, applies the functions in
// arrival order inside a single bbolt Update (one fsync), and reports each
// caller's result.
//
// A lazy call (doLazy) does not start a transaction by itself: it joins the
// next one that an ordinary call starts, or, when none comes, one started
// lazyDelay after it was queued. Deleting sent outbox records is lazy, so at
// a steady state they ride in the transactions that store new replies and
// cost no fsync of their own.
//
// It is used instead of bbolt's DB.Batch because Batch delays every batch by
// MaxBatchDelay (10ms by default) even when there is a single caller, which
// caps a serial writer at ~100 commits/s; here a batch starts as soon as the
// previous one ends, so a lone caller pays one fsync and no delay, while
// callers arriving during an fsync are grouped into the next transaction.
//
// Failure isolation follows Batch: if one function fails, the transaction is
// rolled back, that caller gets its error, and the rest are re-run without
// it. A function may therefore run more than once and must confine its
// effects to the transaction and to state it overwrites on each run.
type writer struct {
	bolt      *bolt.DB
	maxBatch  int
	lazyDelay time.Duration

	mu      sync.Mutex
	pending []*writeReq
	closed  bool

	wake    chan struct{} // capacity 1: "pending may be non-empty"
	stopped chan struct{} // closed when the loop exits

	txs, writes, failed atomic.Uint64
	commitFailed        atomic.Uint64 // transactions bbolt failed to commit

	healthMu  sync.Mutex
	commitErr error // the last commit's failure; nil once one succeeds
}

// setCommitErr records the outcome of a commit.
func (w *writer) setCommitErr(err error) {
	w.healthMu.Lock()
	w.commitErr = err
	w.healthMu.Unlock()
}

// lastCommitErr returns the failure of the last commit, nil if it
// succeeded.
func (w *writer) lastCommitErr() error {
	w.healthMu.Lock()
	defer w.healthMu.Unlock()
	return w.commitErr
}

// WriterStats counts the group committer's work since Open. Writes divided
// by Transactions is the average number of calls sharing an fsync.
type WriterStats struct {
	Transactions uint64 // committed read-write transactions (one fsync each)
	Writes       uint64 // write calls committed
	Failed       uint64 // write calls that returned an error
}

// WriterStats returns the group committer's counters, for metrics.
func (db *DB) WriterStats() WriterStats {
	return WriterStats{
		Transactions: db.w.txs.Load(),
		Writes:       db.w.writes.Load(),
		Failed:       db.w.failed.Load(),
	}
}

// CommitFailures counts the transactions bbolt failed to commit (a full
// disk, an I/O error), for metrics; unlike WriterStats.Failed it leaves
// out writes refused on their own (a record not found).
func (db *DB) CommitFailures() uint64 { return db.w.commitFailed.Load() }

type writeReq struct {
	fn   func(*bolt.Tx) error
	done chan error // capacity 1
	lazy bool
	at   time.Time // when a lazy request was queued
}

func newWriter(b *bolt.DB, maxBatch int, lazyDelay time.Duration) *writer {
	w := &writer{
		bolt:      b,
		maxBatch:  maxBatch,
		lazyDelay: lazyDelay,
		wake:      make(chan struct{}, 1),
		stopped:   make(chan struct{}),
	}
	go w.loop()
	return w
}

// do runs fn in a write transaction shared with concurrent callers and
// returns once that transaction is durable (nil) or has failed. If ctx ends
// before the transaction that would carry fn has started, fn is withdrawn
// and ctx.Err() is returned; once started, do waits for the outcome so that
// a nil error always means "committed" and a non-nil one "not committed".
func (w *writer) do(ctx context.Context, fn func(*bolt.Tx) error) error {
	return w.submit(ctx, &writeReq{fn: fn, done: make(chan error, 1)})
}

// doLazy is do for a write that may wait up to lazyDelay for a transaction
// started by another write (see writer). It is durable when it returns nil.
func (w *writer) doLazy(ctx context.Context, fn func(*bolt.Tx) error) error {
	return w.submit(ctx, &writeReq{fn: fn, done: make(chan error, 1), lazy: true, at: time.Now()})
}

func (w *writer) submit(ctx context.Context, req *writeReq) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	w.mu.Lock()
	if w.closed {
		w.mu.Unlock()
		return ErrClosed
	}
	w.pending = append(w.pending, req)
	w.mu.Unlock()
	select {
	case w.wake <- struct{}{}:
	default:
	}
	select {
	case err := <-req.done:
		return err
	case <-ctx.Done():
	}
	w.mu.Lock()
	for i, r := range w.pending {
		if r == req {
			w.pending = append(w.pending[:i], w.pending[i+1:]...)
			w.mu.Unlock()
			return ctx.Err()
		}
	}
	w.mu.Unlock()
	return <-req.done
}

func (w *writer) loop() {
	defer close(w.stopped)
	timer := time.NewTimer(time.Hour)
	timer.Stop()
	for {
		w.mu.Lock()
		wait, ready := w.readyLocked(time.Now())
		var batch []*writeReq
		if ready {
			n := min(len(w.pending), w.maxBatch)
			batch = make([]*writeReq, n)
			copy(batch, w.pending)
			w.pending = append(w.pending[:0], w.pending[n:]...)
		}
		closed := w.closed
		w.mu.Unlock()
		if len(batch) > 0 {
			w.run(batch)
			continue
		}
		if closed && !ready && wait == 0 {
			return
		}
		if wait > 0 {
			timer.Reset(wait)
			select {
			case <-w.wake:
			case <-timer.C:
			}
			timer.Stop()
			continue
		}
		<-w.wake
	}
}

// readyLocked reports whether a transaction should start now: an ordinary
// request is pending, the writer is closing, or the oldest lazy request has
// waited lazyDelay. Otherwise wait is how long until that lazy request is
// due (0 when nothing is pending).
func (w *writer) readyLocked(now time.Time) (wait time.Duration, ready bool) {
	if len(w.pending) == 0 {
		return 0, false
	}
	if w.closed {
		return 0, true
	}
	oldest := time.Time{}
	for _, r := range w.pending {
		if !r.lazy {
			return 0, true
		}
		if oldest.IsZero() || r.at.Before(oldest) {
			oldest = r.at
		}
	}
	if d := w.lazyDelay - now.Sub(oldest); d > 0 {
		return d, false
	}
	return 0, true
}

// run commits batch, isolating failing functions as described on writer.
func (w *writer) run(batch []*writeReq) {
	for len(batch) > 0 {
		failed, ferr := -1, error(nil)
		err := w.bolt.Update(func(tx *bolt.Tx) error {
			for i, r := range batch {
				if err := safeCall(r.fn, tx); err != nil {
					failed, ferr = i, err
					return err
				}
			}
			return nil
		})
		if failed >= 0 {
			w.failed.Add(1)
			batch[failed].done <- ferr
			batch = append(batch[:failed], batch[failed+1:]...)
			continue
		}
		switch {
		case err == nil:
			w.txs.Add(1)
			w.writes.Add(uint64(len(batch)))
			w.setCommitErr(nil)
		case errors.Is(err, berrors.ErrDatabaseNotOpen):
			err = ErrClosed
			w.failed.Add(uint64(len(batch)))
		default:
			err = fmt.Errorf("commit: %w", err)
			w.failed.Add(uint64(len(batch)))
			w.commitFailed.Add(1)
			w.setCommitErr(err)
		}
		for _, r := range batch {
			r.done <- err
		}
		return
	}
}

// close stops accepting writes, waits for queued ones to finish and for the
// loop to exit. It reports false if the writer was already closed.
func (w *writer) close() bool {
	w.mu.Lock()
	if w.closed {
		w.mu.Unlock()
		<-w.stopped
		return false
	}
	w.closed = true
	w.mu.Unlock()
	select {
	case w.wake <- struct{}{}:
	default:
	}
	<-w.stopped
	return true
}

func (w *writer) isClosed() bool {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.closed
}

func safeCall(fn func(*bolt.Tx) error, tx *bolt.Tx) (err error) {
	defer func() {
		if p := recover(); p != nil {
			err = fmt.Errorf("panic in write transaction: %v", p)
		}
	}()
	return fn(tx)
}
