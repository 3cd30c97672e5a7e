// Package vacation is the auto-responder behind the Sieve vacation action
// (RFC 5230, RFC 6131): it decides whether a reply is due, following RFC 3834
// and Dovecot Pigeonhole's checks in Pigeonhole's order, and composes the
// reply message.
//
// A [Responder] turns a [sieve.Vacation] action, the incoming message and its
// envelope into a [Decision]: either a reason code explaining why no reply is
// sent, or the addresses and deduplication [Key] of a reply, which
// [Responder.Compose] renders as an RFC 5322 [Reply]. Deciding consults a
// [Dedup] but never records anything: the caller marks the key once the reply
// was accepted for sending, in memory ([MemoryDedup]) or in its store, possibly
// in the same transaction that queues the reply.
package vacation
