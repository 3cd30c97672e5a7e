package store

import (
	"context"
	"time"
)

// The interfaces below are the state contracts every state backend
// implements: [DB] (bbolt, the embedded default) and, for several replicas,
// a shared database. Code outside this package depends on them, not on
// [DB]. Every implementation must pass the contract tests in this package
// (see storetest).
//
// Guarantees common to all methods:
//   - A write method that returns nil is durable: it survives a crash of the
//     process and of the machine (unless a test-only option says
//     otherwise). A write method that returns an error wrote nothing, except
//     where the method says the outcome is unknown.
//   - A read sees every write whose call has returned, from any process
//     sharing the state.
//   - Errors wrap [ErrNotFound], [ErrInvalid], [ErrActive], [ErrExists], [ErrLeased] or
//     [ErrClosed] where those apply; any other error means the state could
//     not be reached or read, and a caller answering a client must answer
//     with a temporary failure.

// Dedup holds "already replied" marks (and the Sieve duplicate test's
// records, under a sender no envelope sender can have). Marks are written
// with [Outbox.Commit], together with the records they go with.
type Dedup interface {
	// Seen reports whether a live mark (now < Expires) exists for k.
	Seen(ctx context.Context, k DedupKey, now time.Time) (bool, error)
	// ListDedup lists the live and expired-but-unswept marks of user, and
	// only those for sender when it is not "".
	ListDedup(user, sender string) ([]DedupRecord, error)
	// ForgetDedup deletes user's marks (for sender only, when not "") and
	// returns how many it deleted. Durable when it returns.
	ForgetDedup(user, sender string) (int, error)
	// Sweep deletes marks that expired at or before now and returns how
	// many. Any number of concurrent callers is safe; a shared backend
	// lets one replica sweep at a time, and the others return 0 at once.
	Sweep(now time.Time) (int, error)
	// RunSweeper calls Sweep every interval until ctx ends, logging errors.
	RunSweeper(ctx context.Context, every time.Duration, now func() time.Time)
	// DedupCount returns the number of stored marks.
	DedupCount() (int, error)
}

// Outbox holds the replies, redirects and notifications waiting for the
// relay, with their delivery schedule.
//
// # Leases
//
// A record is sent by the worker that holds its lease. [Outbox.Claim]
// returns due records and leases them to the caller for a duration; while
// a record's lease runs, no other Claim (in this process or, for a shared
// backend, in any other replica) returns it. A lease ends with
// [Outbox.Done], [Outbox.Retry], [Outbox.Drop] or [Outbox.Release], or when
// its time runs out: a worker that died or stalled loses its claims then,
// and any Claim (any replica's) may return the record again. A worker must
// therefore not start sending a record whose lease is about to end. So a
// record may be sent twice only when its sender died or stalled past the
// lease after the relay took it and before Done was stored; it is never
// lost. With the embedded backend the leases live in the process, so a
// restart also ends them.
type Outbox interface {
	// Commit writes every mark and every record in one transaction and
	// returns nil only once it is durable: all of them are stored, or on
	// error none. Concurrent callers may share transactions. It assigns
	// each stored record's ID (increasing, never reused), sets a zero
	// Queued to now and a zero NextAttempt to Queued. A mark for an
	// existing key replaces it, except an exclusive one (see
	// [Mark.Reply]): that one is skipped, with its Reply, when a live mark
	// for its key exists at its Created time, whoever wrote it; its Reply
	// then keeps ID 0. The backend decides this inside the transaction, so
	// of two deliveries racing for one key (in one process or in several
	// replicas) exactly one queues its reply. Invalid arguments fail the
	// call with ErrInvalid. If ctx ends before the write started, nothing
	// is written.
	Commit(ctx context.Context, marks []Mark, recs []*OutboxRecord) error
	// Queued is signalled (without blocking, coalesced) after a Commit
	// that stored records, and after a Reschedule; a shared backend also
	// signals other replicas' commits where it can (PostgreSQL's NOTIFY).
	// A dispatcher must still wake at NextDue: signals can be lost.
	Queued() <-chan struct{}
	// Get returns one record, or ErrNotFound.
	Get(id uint64) (OutboxRecord, error)
	// Due returns up to limit records whose NextAttempt is at or before
	// now, leased or not, in schedule order.
	Due(now time.Time, limit int) ([]OutboxRecord, error)
	// Claim returns up to limit (all, when limit <= 0) due records whose
	// lease is not running at now, in schedule order, and leases them to
	// the caller until now+lease (see Leases); lease <= 0 means
	// [DefaultLease].
	Claim(ctx context.Context, now time.Time, limit int, lease time.Duration) ([]OutboxRecord, error)
	// Release ends this process's lease on id without changing the
	// record, which is due again at its NextAttempt. It is best effort:
	// when it fails the lease ends with its time.
	Release(id uint64)
	// Leased reports how many records this process holds running leases
	// on.
	Leased() int
	// NextDue returns the earliest time a Claim may return a record: the
	// NextAttempt of a record whose lease is not running, or the end of
	// the lease of one that is, whichever is earliest over all records;
	// false when the outbox is empty.
	NextDue(ctx context.Context) (time.Time, bool, error)
	// Done deletes a record the relay accepted and ends its lease.
	Done(id uint64) error
	// Retry records a failed attempt (Attempts+1, LastError) and schedules
	// the next at next; it ends the lease. When it fails (the store cannot
	// write) the lease ends with its time, so the record is not due again
	// at once.
	Retry(id uint64, next time.Time, lastErr string) error
	// Reschedule moves a record's next attempt (an operator's "send now").
	Reschedule(id uint64, next time.Time) error
	// RescheduleIdle is Reschedule for a record whose lease is not
	// running (in any replica); a leased one fails with ErrLeased and is
	// left alone.
	RescheduleIdle(id uint64, next time.Time) error
	// Drop deletes a record, keeps it (without its message) in the
	// dropped list with why, and ends its lease; when it fails, as Retry.
	Drop(id uint64, why string) error
	// ListOutbox lists every record (messages included) by ID.
	ListOutbox() ([]OutboxRecord, error)
	// ListDropped lists the newest dropped records by ID.
	ListDropped() ([]DroppedRecord, error)
	// OutboxStats returns the number of records and the age of the
	// oldest.
	OutboxStats(now time.Time) (depth int, oldest time.Duration, err error)
}

// Scripts holds users' stored Sieve scripts (ManageSieve's). Each user has
// any number of named scripts, at most one of them active. Every write is
// durable when it returns.
type Scripts interface {
	// PutScript stores source as user's script name, replacing one of
	// that name (and keeping it active if it was).
	PutScript(user, name string, source []byte) error
	// GetScript returns one script, or ErrNotFound.
	GetScript(user, name string) (Script, error)
	// ActiveScript returns user's active script, or ErrNotFound.
	ActiveScript(user string) (Script, error)
	// ListScripts lists user's scripts by name.
	ListScripts(user string) ([]Script, error)
	// DeleteScript deletes a script; the active one fails with ErrActive.
	DeleteScript(user, name string) error
	// ActivateScript makes name the active script; "" deactivates all.
	// A missing name fails with ErrNotFound.
	ActivateScript(user, name string) error
	// RenameScript renames user's script from to to, atomically: the
	// script keeps its source, update time and active state, and no
	// reader sees both names or neither. It fails with ErrNotFound when
	// from does not exist and ErrExists when to does (renaming a script
	// to its own name is a no-op that succeeds).
	RenameScript(user, from, to string) error
}

// State is all of vacationd's state in one backend.
type State interface {
	Dedup
	Outbox
	Scripts
	// Ping reports whether the backend answers (for /healthz).
	Ping(ctx context.Context) error
	// Close releases the backend; it waits for writes in flight.
	Close() error
}

// DefaultLease is the lease of a Claim that names none: long enough for a
// relay to take one message, short enough that a dead replica's claims
// are sent by another within the minute.
const DefaultLease = 30 * time.Second

var _ State = (*DB)(nil)
