package store

import (
	"context"
	"fmt"
	"strings"
	"time"
)

// ReplyLimits counts the vacation replies the backscatter limits allowed
// (sieve_vacation_max_replies_per_address and _per_minute, see
// vacation.RateLimit) in the state, so that replicas sharing it hold the
// limits together instead of each on its own. It is optional: a backend
// that only one process opens (bbolt) need not implement it, since that
// process's memory holds every count; the PostgreSQL backend does.
//
// The semantics are those of vacation.RateLimit: a reply counts against
// its key (the destination address as vacation.RateLimit.Key computes it)
// for [ReplyAddressWindow] after it, and against all replies for
// [ReplyMinuteWindow]: a reply counted at t is in the window of a call at
// now while now-t is less than the window. A limit of 0 is off; only
// allowed replies are counted. Calls are atomic across every handle and
// process: of any number of callers racing for the last reply a limit
// allows, exactly one gets it. Counts older than [ReplyAddressWindow] are
// deleted by the backend on its own, so the space they take is bounded by
// the replies of an hour.
type ReplyLimits interface {
	// AllowReply reports whether a reply to key may be sent at now under
	// at most perAddress replies to key in ReplyAddressWindow and
	// perMinute replies in all in ReplyMinuteWindow, and counts it when
	// it may ([ReplyAllowed]). Otherwise it returns the limit hit, the
	// per-minute one first when both are, and the number of replies in
	// that limit's window: at least the limit, and at most the replies
	// there are (a backend may stop counting at the limit). A key that is empty, over 1024
	// bytes or holds a NUL, or a negative limit, fails with ErrInvalid.
	// On an error nothing was counted, except when the call ended (ctx,
	// a broken connection) while its write was in flight: then the reply
	// may have been, which errs on the side of the limits.
	AllowReply(ctx context.Context, key string, now time.Time, perAddress, perMinute int) (ReplyLimit, int, error)
	// RefundReply takes back one reply to key counted at now, if any
	// (a reply allowed and then not queued after all).
	RefundReply(ctx context.Context, key string, now time.Time) error
}

// ReplyLimit is what [ReplyLimits.AllowReply] decided.
type ReplyLimit int

const (
	// ReplyAllowed: the reply may be sent, and was counted.
	ReplyAllowed ReplyLimit = iota
	// ReplyPerMinute: the replies in all in the last minute are at the
	// limit.
	ReplyPerMinute
	// ReplyPerAddress: the replies to the key in the last hour are at the
	// limit.
	ReplyPerAddress
)

// The windows of the backscatter limits.
const (
	ReplyAddressWindow = time.Hour
	ReplyMinuteWindow  = time.Minute
)

// CheckReplyLimit validates the arguments of [ReplyLimits.AllowReply]
// (with perAddress and perMinute 0 for RefundReply).
func CheckReplyLimit(key string, perAddress, perMinute int) error {
	switch {
	case key == "" || len(key) > 1024:
		return fmt.Errorf("reply limit key of %d bytes: %w", len(key), ErrInvalid)
	case strings.IndexByte(key, 0) >= 0:
		return fmt.Errorf("reply limit key %q: NUL byte: %w", key, ErrInvalid)
	case perAddress < 0 || perMinute < 0:
		return fmt.Errorf("reply limits %d per address, %d per minute: negative: %w", perAddress, perMinute, ErrInvalid)
	}
	return nil
}
