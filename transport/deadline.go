package transport

import (
	"sync"
	"time"
)

// lazyDeadline leaves a socket's deadline as it is when the new one is
// later by less than a slack: the protocol sets the read deadline before every
// command line and the write deadline before every reply, and each set
// moves a runtime timer (a lock and a heap update), several per message
// on a reused connection. With the slack a deadline moves at most once
// per slack; it can fire up to a slack earlier than asked, never later.
// A zero deadline (none) and an earlier one are always set.
type lazyDeadline struct {
	mu sync.Mutex
	at time.Time // the deadline the socket has, as far as we set it
}

// set sets t with setter unless the deadline in place is at most slack
// earlier than t.
func (d *lazyDeadline) set(t time.Time, slack time.Duration, setter func(time.Time) error) error {
	d.mu.Lock()
	defer d.mu.Unlock()
	if !t.IsZero() && !d.at.IsZero() && !t.Before(d.at) && t.Sub(d.at) < slack {
		return nil
	}
	if err := setter(t); err != nil {
		return err
	}
	d.at = t
	return nil
}

// restore sets the deadline d has in place again, after code that set the
// socket's own (the PROXY header reads) cleared it.
func (d *lazyDeadline) restore(setter func(time.Time) error) error {
	d.mu.Lock()
	defer d.mu.Unlock()
	return setter(d.at)
}

// deadlineSlack is the slack for a timeout: 1/100 of it, so a deadline
// fires after at least 99% of the timeout.
func deadlineSlack(timeout time.Duration) time.Duration { return timeout / 100 }
