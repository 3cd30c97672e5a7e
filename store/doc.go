// Package store is vacationd's persistent state in a single bbolt file: reply
// dedup records with their expiry, the outbox of replies and redirects waiting
// to be relayed, and stored Sieve scripts.
//
// # Guarantees
//
// All writes go through one group committer (see [DB.Commit]): each call's
// writes are applied in one bbolt read-write transaction, and a call returns
// nil only after that transaction has been committed and fsynced (unless
// [Options.NoSync] is set, which is for tests only). Concurrent callers share
// transactions and therefore fsyncs, so throughput grows with concurrency
// while a lone caller pays one fsync and no batching delay. A call that
// returns an error has written nothing, with one exception inherited from
// bbolt: if the final fsync itself fails, the outcome is unknown and the
// caller must treat the database as suspect.
//
// Reads ([DB.Seen], [DB.Due], [DB.ListOutbox], ...) run in read-only bbolt
// transactions and see every write whose call has returned.
//
// One write is lazy: [DB.Done], the deletion of a record the relay
// accepted, waits up to [Options.DoneDelay] (50 ms) to join a transaction
// another write starts, so at a steady state sent records cost no fsync of
// their own (about one fsync per reply, the Commit that stored it). It still
// returns only once durable, and the record stays leased until then. What
// it widens is the window of the Outbox lease guarantee: a record the relay
// accepted is sent again after a crash if its deletion was not yet stored,
// now up to DoneDelay longer after the relay's 250. A record is never
// deleted before the relay answered 250 (or it was dropped).
//
// Only one process may have the file open: [Open] takes an exclusive file
// lock and fails with [ErrLocked] if another process holds it. The operator
// subcommands therefore work on a stopped service.
//
// # Layout
//
// Buckets and keys (all integers big-endian so byte order is numeric order):
//
//	meta            "schema" -> 1
//	dedup           user 0x00 lower(sender) 0x00 handle -> created, expires
//	dedup_exp       expires(8) user 0x00 lower(sender) 0x00 handle -> ""
//	outbox          id(8) -> record
//	outbox_due      next_attempt(8) id(8) -> ""
//	outbox_dropped  id(8) -> dropped record (without message; last 1000)
//	scripts         user 0x00 name -> updated, source
//	scripts_active  user -> name
//
// A dedup lookup is one Get. The dedup_exp index orders records by expiry so
// [DB.Sweep] deletes expired records by walking a prefix of it without
// scanning live records. bbolt reuses freed pages but never shrinks the
// file, so with the sweeper running the file stays at the size of the peak
// live data (dedup records live for the vacation period, outbox records
// until sent or dropped). The outbox_due index does the
// same for the delivery schedule, so [DB.Due] and [DB.Claim] touch only the
// records they return.
package store
