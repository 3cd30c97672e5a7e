package storetest

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/vacationd/vacationd/store"
)

// replyLimits returns s's reply limits and a replica's, or skips the test
// for a backend without them (bbolt: one process counts in its memory).
func replyLimits(t *testing.T, b Backend) (store.ReplyLimits, store.ReplyLimits) {
	t.Helper()
	s := b.New(t)
	rl, ok := s.(store.ReplyLimits)
	if !ok {
		t.Skip("the backend keeps no reply limits")
	}
	return rl, b.replica(t, s).(store.ReplyLimits)
}

// allowReply calls AllowReply and fails the test on an error.
func allowReply(t *testing.T, rl store.ReplyLimits, key string, now time.Time, perAddress, perMinute int) (store.ReplyLimit, int) {
	t.Helper()
	hit, n, err := rl.AllowReply(context.Background(), key, now, perAddress, perMinute)
	if err != nil {
		t.Fatalf("AllowReply(%q, %s): %v", key, now.Sub(t0), err)
	}
	return hit, n
}

// testReplyLimits: each step calls AllowReply (or RefundReply) at t0 plus
// at, on the handle or its replica, and wants the outcome; the windows
// slide, a refusal is not counted, 0 turns a limit off.
func testReplyLimits(t *testing.T, b Backend) {
	const victim, other = "victim@example.org", "other@example.org"
	type step struct {
		at         time.Duration
		key        string
		perAddress int
		perMinute  int
		refund     bool
		replica    bool
		want       store.ReplyLimit
		wantN      int
	}
	tests := []struct {
		name  string
		steps []step
	}{
		{"per address, sliding hour", []step{
			{at: 0, key: victim, perAddress: 3},
			{at: 10 * time.Minute, key: victim, perAddress: 3, replica: true},
			{at: 20 * time.Minute, key: victim, perAddress: 3},
			{at: 30 * time.Minute, key: victim, perAddress: 3, want: store.ReplyPerAddress, wantN: 3},
			{at: 30 * time.Minute, key: other, perAddress: 3},
			{at: time.Hour - time.Nanosecond, key: victim, perAddress: 3, replica: true, want: store.ReplyPerAddress, wantN: 3},
			{at: time.Hour, key: victim, perAddress: 3}, // the reply at 0 left the window
			{at: time.Hour + 5*time.Minute, key: victim, perAddress: 3, want: store.ReplyPerAddress, wantN: 3},
			{at: time.Hour + 10*time.Minute, key: victim, perAddress: 3},
			{at: time.Hour + 10*time.Minute, key: victim, perAddress: 4}, // a reload raising the limit
			{at: time.Hour + 11*time.Minute, key: victim, perAddress: 2, want: store.ReplyPerAddress, wantN: 4},
		}},
		{"per minute, sliding minute, checked first", []step{
			{at: 0, key: "a@example.org", perAddress: 1, perMinute: 2},
			{at: 30 * time.Second, key: "b@example.org", perAddress: 1, perMinute: 2, replica: true},
			{at: 40 * time.Second, key: "a@example.org", perAddress: 1, perMinute: 2, want: store.ReplyPerMinute, wantN: 2},
			{at: 40 * time.Second, key: "c@example.org", perAddress: 1, perMinute: 2, want: store.ReplyPerMinute, wantN: 2},
			{at: time.Minute, key: "c@example.org", perAddress: 1, perMinute: 2},
			{at: time.Minute + time.Second, key: "d@example.org", perAddress: 1, perMinute: 2, want: store.ReplyPerMinute, wantN: 2},
			{at: 90 * time.Second, key: "a@example.org", perAddress: 1, perMinute: 2, want: store.ReplyPerAddress, wantN: 1},
			{at: 91 * time.Second, key: "d@example.org", perAddress: 1, perMinute: 2, replica: true},
			{at: 92 * time.Second, key: "e@example.org", perAddress: 1, perMinute: 2, want: store.ReplyPerMinute, wantN: 2},
		}},
		{"refusals are not counted", []step{
			{at: 0, key: victim, perAddress: 1},
			{at: time.Minute, key: victim, perAddress: 1, want: store.ReplyPerAddress, wantN: 1},
			{at: 2 * time.Minute, key: victim, perAddress: 1, want: store.ReplyPerAddress, wantN: 1},
			{at: time.Hour, key: victim, perAddress: 1},
			{at: time.Hour, key: victim, perAddress: 1, want: store.ReplyPerAddress, wantN: 1},
		}},
		{"0 is off", []step{
			{at: 0, key: victim}, {at: 0, key: victim}, {at: 0, key: victim},
			{at: 0, key: victim, perMinute: 100}, // counted while off: 4 in the minute
			{at: time.Second, key: victim, perAddress: 5},
			{at: 2 * time.Second, key: victim, perAddress: 5, want: store.ReplyPerAddress, wantN: 5},
			{at: 2 * time.Second, key: victim, perMinute: 5, want: store.ReplyPerMinute, wantN: 5},
			{at: 2 * time.Second, key: victim},
		}},
		{"refund", []step{
			{at: 0, key: victim, perAddress: 2, perMinute: 2},
			{at: 0, key: victim, perAddress: 2, perMinute: 2},
			{at: time.Second, key: victim, perAddress: 2, perMinute: 2, want: store.ReplyPerMinute, wantN: 2},
			{at: time.Second, key: victim, refund: true},     // never counted: no change
			{at: 0, key: other, refund: true, replica: true}, // another key: no change
			{at: 2 * time.Second, key: victim, perAddress: 2, perMinute: 2, want: store.ReplyPerMinute, wantN: 2},
			{at: 0, key: victim, refund: true, replica: true},               // one of the two at 0
			{at: 3 * time.Second, key: victim, perAddress: 2, perMinute: 2}, // the minute's count went down too
			{at: 0, key: victim, refund: true},
			{at: 0, key: victim, refund: true}, // none left at 0: no change
			{at: 5 * time.Second, key: victim, perAddress: 2, perMinute: 3},
			{at: 6 * time.Second, key: victim, perAddress: 2, perMinute: 3, want: store.ReplyPerAddress, wantN: 2},
			{at: 6 * time.Second, key: other, perAddress: 2, perMinute: 3},
			{at: 7 * time.Second, key: other, perAddress: 2, perMinute: 3, want: store.ReplyPerMinute, wantN: 3},
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rl, rep := replyLimits(t, b)
			for i, st := range tt.steps {
				h := rl
				if st.replica {
					h = rep
				}
				now := t0.Add(st.at)
				if st.refund {
					if err := h.RefundReply(context.Background(), st.key, now); err != nil {
						t.Fatalf("step %d: RefundReply: %v", i, err)
					}
					continue
				}
				hit, n := allowReply(t, h, st.key, now, st.perAddress, st.perMinute)
				// n is the count in the window, or the limit where the
				// backend stopped counting.
				minN := map[store.ReplyLimit]int{store.ReplyPerAddress: st.perAddress, store.ReplyPerMinute: st.perMinute}[st.want]
				if hit != st.want || n < minN || n > st.wantN {
					t.Errorf("step %d: AllowReply(%q at %s, %d per address, %d per minute) = %v, %d; want %v, %d to %d",
						i, st.key, st.at, st.perAddress, st.perMinute, hit, n, st.want, minN, st.wantN)
				}
			}
		})
	}
}

// testReplyLimitsInvalid: bad keys and negative limits fail with
// ErrInvalid and count nothing.
func testReplyLimitsInvalid(t *testing.T, b Backend) {
	rl, _ := replyLimits(t, b)
	ctx := context.Background()
	for _, bad := range []struct {
		key                   string
		perAddress, perMinute int
	}{{"", 1, 1}, {"a\x00b@example.org", 1, 1}, {string(make([]byte, 1025)), 1, 1}, {"a@example.org", -1, 0}, {"a@example.org", 0, -1}} {
		if _, _, err := rl.AllowReply(ctx, bad.key, t0, bad.perAddress, bad.perMinute); !errors.Is(err, store.ErrInvalid) {
			t.Errorf("AllowReply(%q, %d, %d): %v, want ErrInvalid", bad.key, bad.perAddress, bad.perMinute, err)
		}
	}
	if err := rl.RefundReply(ctx, "", t0); !errors.Is(err, store.ErrInvalid) {
		t.Errorf("RefundReply(\"\"): %v, want ErrInvalid", err)
	}
	if hit, _ := allowReply(t, rl, "a@example.org", t0, 1, 1); hit != store.ReplyAllowed {
		t.Errorf("first valid reply after invalid calls: %v", hit)
	}
}

// testReplyLimitsRace: goroutines on two handles (replicas) race for the
// replies a limit allows; in each round exactly the limit get one, for the
// per-address limit (one key) and the per-minute one (distinct keys).
func testReplyLimitsRace(t *testing.T, b Backend) {
	const limit, callers, rounds = 5, 64, 5
	for _, perMinute := range []bool{false, true} {
		t.Run(fmt.Sprintf("perMinute=%v", perMinute), func(t *testing.T) {
			rl, rep := replyLimits(t, b)
			race := func(round int, call func(h store.ReplyLimits, i int) (store.ReplyLimit, error)) (allowed int) {
				var n atomic.Int32
				var wg sync.WaitGroup
				start := make(chan struct{})
				for i := range callers {
					h := rl
					if i%2 == 1 {
						h = rep
					}
					wg.Go(func() {
						<-start
						hit, err := call(h, i)
						if err != nil {
							t.Errorf("round %d: AllowReply: %v", round, err)
						} else if hit == store.ReplyAllowed {
							n.Add(1)
						}
					})
				}
				close(start)
				wg.Wait()
				return int(n.Load())
			}
			// Connect the handles' pools first, so that the callers race
			// in the database rather than queue for connections.
			race(0, func(h store.ReplyLimits, i int) (store.ReplyLimit, error) {
				hit, _, err := h.AllowReply(context.Background(), fmt.Sprintf("warm%d@example.org", i), t0, 0, 0)
				return hit, err
			})
			for round := 1; round <= rounds; round++ {
				now := t0.Add(time.Duration(round) * store.ReplyAddressWindow)
				got := race(round, func(h store.ReplyLimits, i int) (store.ReplyLimit, error) {
					key, perAddress, perMin := fmt.Sprintf("victim%d@example.org", round), limit, 0
					if perMinute {
						key, perAddress, perMin = fmt.Sprintf("s%d-%d@example.org", round, i), 0, limit
					}
					hit, _, err := h.AllowReply(context.Background(), key, now.Add(time.Duration(i)*time.Millisecond), perAddress, perMin)
					return hit, err
				})
				if got != limit {
					t.Errorf("round %d: %d of %d racing callers allowed, want %d", round, got, callers, limit)
				}
			}
		})
	}
}
