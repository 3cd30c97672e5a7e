package delivery

import (
	"context"
	"errors"
	"testing"
	"time"
)

// countingSource answers from a map and counts the lookups.
type countingSource struct {
	scripts map[string][]Script
	err     error
	calls   int
}

func (s *countingSource) Scripts(_ context.Context, user string) ([]Script, error) {
	s.calls++
	return s.scripts[user], s.err
}

func TestCached(t *testing.T) {
	now := t0
	src := &countingSource{scripts: map[string][]Script{"bob@example.com": {{Name: "bob", Text: []byte("keep;")}}}}
	c := &Cached{Source: src, TTL: time.Second, Now: func() time.Time { return now }}
	ctx := context.Background()
	for _, tc := range []struct {
		step      string
		user      string
		advance   time.Duration
		change    func()
		want      int // scripts returned
		wantCalls int // lookups in src so far
	}{
		{step: "first lookup asks the source", user: "bob@example.com", want: 1, wantCalls: 1},
		{step: "within TTL from memory", user: "bob@example.com", advance: 500 * time.Millisecond, want: 1, wantCalls: 1},
		{step: "no script is remembered too", user: "carol@example.com", want: 0, wantCalls: 2},
		{step: "again from memory", user: "carol@example.com", want: 0, wantCalls: 2},
		{step: "a removed script is seen after TTL", user: "bob@example.com", advance: 600 * time.Millisecond,
			change: func() { delete(src.scripts, "bob@example.com") }, want: 0, wantCalls: 3},
	} {
		now = now.Add(tc.advance)
		if tc.change != nil {
			tc.change()
		}
		got, err := c.Scripts(ctx, tc.user)
		if err != nil || len(got) != tc.want || src.calls != tc.wantCalls {
			t.Errorf("%s: %d scripts, %v, %d lookups; want %d scripts, %d lookups", tc.step, len(got), err, src.calls, tc.want, tc.wantCalls)
		}
	}
	// An error is passed on and not remembered.
	now = now.Add(time.Hour)
	src.err = errors.New("unavailable")
	if _, err := c.Scripts(ctx, "bob@example.com"); err == nil {
		t.Error("error not passed on")
	}
	src.err = nil
	calls := src.calls
	if _, err := c.Scripts(ctx, "bob@example.com"); err != nil || src.calls != calls+1 {
		t.Errorf("after an error: %v, %d lookups, want the source asked again", err, src.calls-calls)
	}
	// Shared: one lookup for every user.
	sh := &Cached{Source: src, TTL: time.Second, Shared: true, Now: func() time.Time { return now }}
	calls = src.calls
	sh.Scripts(ctx, "a@example.com")
	sh.Scripts(ctx, "b@example.com")
	if src.calls != calls+1 {
		t.Errorf("shared: %d lookups for two users, want 1", src.calls-calls)
	}
}
