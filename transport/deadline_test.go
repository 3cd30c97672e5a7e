package transport

import (
	"testing"
	"time"
)

// TestLazyDeadline: a deadline later than the one in place by less than
// the slack is not set; a later one by more, an earlier one and none (zero)
// are; restore sets the one in place again.
func TestLazyDeadline(t *testing.T) {
	t0 := time.Date(2026, 11, 30, 12, 0, 0, 0, time.UTC)
	const slack = time.Second
	var d lazyDeadline
	var socket time.Time
	sets := 0
	setter := func(t time.Time) error { socket = t; sets++; return nil }
	steps := []struct {
		at   time.Time
		want time.Time // the socket's deadline after the step
		set  bool
	}{
		{t0, t0, true}, // first
		{t0.Add(500 * time.Millisecond), t0, false},        // within the slack: kept
		{t0.Add(999 * time.Millisecond), t0, false},        // still within
		{t0.Add(time.Second), t0.Add(time.Second), true},   // the slack reached
		{t0.Add(-time.Minute), t0.Add(-time.Minute), true}, // earlier
		{time.Time{}, time.Time{}, true},                   // none
		{t0, t0, true},                                     // after none
	}
	for i, s := range steps {
		before := sets
		if err := d.set(s.at, slack, setter); err != nil {
			t.Fatal(err)
		}
		if !socket.Equal(s.want) || (sets > before) != s.set {
			t.Errorf("step %d: socket deadline %v (set %v), want %v (set %v)", i, socket, sets > before, s.want, s.set)
		}
	}
	socket = time.Time{} // cleared behind d's back
	d.restore(setter)
	if !socket.Equal(t0) {
		t.Errorf("after restore the socket's deadline is %v, want %v", socket, t0)
	}
}
