package delivery

import (
	"context"
	"sync"
	"time"
)

// Cached is a Source that answers from memory what Source answered for the
// same user less than TTL ago, so the scripts of a busy user are looked up
// (for files: a stat and a read each) at most once per TTL instead of for
// every message: a script written, changed or removed takes effect within
// TTL. "No script" is remembered like a script; an error is not, so a
// source that failed is asked again by the next message. With Shared the
// answer is the same for every user (sieve_before and sieve_after files)
// and is remembered once.
//
// The zero TTL asks Source every time. Cached is safe for concurrent use;
// it remembers at most maxCached users.
type Cached struct {
	Source Source
	TTL    time.Duration
	Shared bool
	// Now is the clock; nil means time.Now.
	Now func() time.Time

	mu sync.Mutex
	m  map[string]cachedScripts
}

type cachedScripts struct {
	scripts []Script
	until   time.Time
}

const maxCached = 1 << 16

// Scripts implements Source.
func (c *Cached) Scripts(ctx context.Context, user string) ([]Script, error) {
	if c.TTL <= 0 {
		return c.Source.Scripts(ctx, user)
	}
	now := time.Now
	if c.Now != nil {
		now = c.Now
	}
	key := user
	if c.Shared {
		key = ""
	}
	t := now()
	c.mu.Lock()
	e, ok := c.m[key]
	c.mu.Unlock()
	if ok && t.Before(e.until) {
		return e.scripts, nil
	}
	scripts, err := c.Source.Scripts(ctx, user)
	if err != nil {
		return nil, err
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.m == nil {
		c.m = make(map[string]cachedScripts)
	}
	if len(c.m) >= maxCached {
		for k, e := range c.m {
			if !t.Before(e.until) {
				delete(c.m, k)
			}
		}
		if len(c.m) >= maxCached {
			clear(c.m)
		}
	}
	c.m[key] = cachedScripts{scripts: scripts, until: t.Add(c.TTL)}
	return scripts, nil
}
