package vacation

import (
	"fmt"
	"strings"
	"sync"
	"time"

	"github.com/vacationd/vacationd/mailaddr"
)

// Limiter bounds the replies sent across all users, beyond the per-user
// dedup that RFC 5230 asks for: one forged message to a thousand users, or
// messages from victim+1@, victim+2@, ..., each pass dedup and would make
// a reply each to one victim. Pigeonhole has no such limit.
type Limiter interface {
	// Allow reports whether a reply to the address to may be sent at now,
	// and counts it when it may; otherwise it says which limit was hit.
	Allow(to string, now time.Time) (ok bool, why string)
}

// RateLimit is the in-memory [Limiter] of one process: at most PerAddress
// replies per destination address per hour
// (sieve_vacation_max_replies_per_address) and at most PerMinute replies
// per minute in all (sieve_vacation_max_replies_per_minute); 0 turns a
// limit off. The address is counted lowercased, with its detail (after
// the first of Delimiters, "" meaning "+") removed. The counts live in
// Counts, which a reload hands to the RateLimit of the new configuration.
//
// The counts live in memory: a restart forgets them, which admits at most
// one more window's worth of replies, and processes do not see each
// other's. Replicas sharing a state store use a Limiter over counts kept
// in it instead (delivery.SharedLimit, with the same semantics), which
// holds the limits across all of them and falls back to a RateLimit when
// the store does not answer.
type RateLimit struct {
	PerAddress int
	PerMinute  int
	Delimiters string
	Counts     *RateCounts
}

// RateCounts are the replies a [RateLimit] counted. Memory is bounded: an
// address is remembered only for replies allowed, at most PerMinute a
// minute, for an hour.
type RateCounts struct {
	mu     sync.Mutex
	sent   map[string][]time.Time // address -> reply times in the last hour
	minute []time.Time            // reply times in the last minute, oldest first
	swept  time.Time
}

// NewRateCounts returns empty counts.
func NewRateCounts() *RateCounts {
	return &RateCounts{sent: map[string][]time.Time{}}
}

// Allow implements [Limiter].
func (r RateLimit) Allow(to string, now time.Time) (bool, string) {
	l := r.Counts
	l.mu.Lock()
	defer l.mu.Unlock()
	if now.Sub(l.swept) > time.Minute {
		l.sweep(now)
	}
	i := 0
	for i < len(l.minute) && now.Sub(l.minute[i]) >= time.Minute {
		i++
	}
	l.minute = l.minute[i:]
	if r.PerMinute > 0 && len(l.minute) >= r.PerMinute {
		return false, MinuteLimitWhy(len(l.minute))
	}
	key := r.Key(to)
	times := recent(l.sent[key], now)
	if r.PerAddress > 0 && len(times) >= r.PerAddress {
		l.sent[key] = times
		return false, AddressLimitWhy(len(times), key)
	}
	l.sent[key] = append(times, now)
	l.minute = append(l.minute, now)
	return true, ""
}

// Refunder is a [Limiter] that takes back a reply it allowed that was not
// sent after all: its commit failed (the client retries the message, and
// each retry would count again, so a store that failed for a while left
// the sender rate-limited once it recovered) or another delivery's dedup
// mark won the race to queue it.
type Refunder interface {
	// Refund forgets the reply to the address to that Allow allowed at
	// now.
	Refund(to string, now time.Time)
}

// MinuteLimitWhy is why a reply was refused when n replies were counted
// in the last minute, over sieve_vacation_max_replies_per_minute.
func MinuteLimitWhy(n int) string {
	return fmt.Sprintf("%d replies in the last minute (sieve_vacation_max_replies_per_minute)", n)
}

// AddressLimitWhy is why a reply to key (see [RateLimit.Key]) was refused
// when n replies to it were counted in the last hour, over
// sieve_vacation_max_replies_per_address.
func AddressLimitWhy(n int, key string) string {
	return fmt.Sprintf("%d replies to %s in the last hour (sieve_vacation_max_replies_per_address)", n, key)
}

// Refund implements [Refunder].
func (r RateLimit) Refund(to string, now time.Time) {
	l := r.Counts
	l.mu.Lock()
	defer l.mu.Unlock()
	key := r.Key(to)
	if times, ok := removeTime(l.sent[key], now); ok {
		if len(times) == 0 {
			delete(l.sent, key)
		} else {
			l.sent[key] = times
		}
		l.minute, _ = removeTime(l.minute, now)
	}
}

// removeTime removes the last of times equal to t, if any.
func removeTime(times []time.Time, t time.Time) ([]time.Time, bool) {
	for i := len(times) - 1; i >= 0; i-- {
		if times[i].Equal(t) {
			return append(times[:i:i], times[i+1:]...), true
		}
	}
	return times, false
}

// sweep forgets addresses with no reply in the last hour.
func (l *RateCounts) sweep(now time.Time) {
	for k, times := range l.sent {
		if times = recent(times, now); len(times) == 0 {
			delete(l.sent, k)
		} else {
			l.sent[k] = times
		}
	}
	l.swept = now
}

// recent drops the times an hour or more before now (times are in order).
func recent(times []time.Time, now time.Time) []time.Time {
	i := 0
	for i < len(times) && now.Sub(times[i]) >= time.Hour {
		i++
	}
	return times[i:]
}

// Key is the address to as the limits count it: angle brackets removed,
// lowercased, the local part cut at its first detail delimiter (one of
// Delimiters, "" meaning "+"). A [Limiter] over shared counts keys them
// the same way.
func (r RateLimit) Key(to string) string {
	delims := r.Delimiters
	if delims == "" {
		delims = "+"
	}
	return limitKey(to, delims)
}

// limitKey is the address the limits count: angle brackets removed,
// lowercased, the local part cut at its first detail delimiter.
func limitKey(addr, delims string) string {
	addr = strings.ToLower(mailaddr.TrimAngle(addr))
	at := strings.LastIndexByte(addr, '@')
	if at < 0 {
		return addr
	}
	if j := strings.IndexAny(addr[:at], delims); j > 0 {
		return addr[:j] + addr[at:]
	}
	return addr
}
