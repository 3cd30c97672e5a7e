package relay

import (
	"errors"
	"time"

	"github.com/vacationd/vacationd/store"
)

// Flush makes every record waiting for a later attempt due at now, as
// Postfix's postqueue -f does: once the relay is back or its settings
// changed, what waited for it goes at once instead of at its backoff. No
// attempt is counted. A record being sent (leased, in any replica that
// shares the state) is left to its sender. It returns how many records it
// made due; on a store error it stops and returns the count so far.
func Flush(ob store.Outbox, now time.Time) (int, error) {
	recs, err := ob.ListOutbox()
	if err != nil {
		return 0, err
	}
	n := 0
	for _, r := range recs {
		if !r.NextAttempt.After(now) {
			continue // due already
		}
		switch err := ob.RescheduleIdle(r.ID, now); {
		case err == nil:
			n++
		case errors.Is(err, store.ErrLeased), errors.Is(err, store.ErrNotFound):
			// being sent, or sent (or dropped) meanwhile
		default:
			return n, err
		}
	}
	return n, nil
}
