// Package notify composes the messages Sieve scripts ask to send besides
// vacation replies: enotify notifications by the mailto method (RFC 5435,
// RFC 5436) and vnd.dovecot.report abuse reports (RFC 5965), as Pigeonhole
// writes them. The engine (package sieve) records the actions; this
// package turns each into a [Mail], which the caller queues in the outbox
// with the recipient's other effects.
package notify
