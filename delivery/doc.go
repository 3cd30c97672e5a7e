// Package delivery is vacationd's delivery policy: for each recipient of a
// message handed over by the LMTP server it finds the user's Sieve script,
// runs it (with the sieve_before/sieve_after scripts), and turns the result
// into effects — vacation replies and redirects queued in the outbox, dedup
// marks, reject answers, and deliveries forwarded downstream — answering
// each recipient only after those effects are durable.
//
// It implements transport.Deliverer; the protocol lives in package
// transport, the Sieve language in package sieve, the reply rules in
// package vacation and the state in package store.
package delivery
