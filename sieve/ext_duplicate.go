package sieve

import (
	"context"
	"crypto/md5"
	"encoding/hex"
	"strings"
	"sync"
	"time"
)

// duplicate (RFC 7352): the duplicate test asks Env.Duplicates whether the
// message's unique id (Message-ID, the first :header field, or :uniqueid),
// scoped by :handle, was seen within its period. Recording is deferred: the
// ids to record are returned in Result.Duplicates, to be stored only when
// the result was carried out, as Pigeonhole does. Within one run a repeated
// check gives the first answer.
//
// Settings: sieve_duplicate_default_period (12h) is the period without
// :seconds, sieve_duplicate_max_period (2d) caps any period.

func duplicateExtension() *extension {
	return &extension{name: "duplicate", specs: []*spec{{
		name: "duplicate", test: true,
		tags: []tagSpec{
			{name: "handle", arg: tString},
			{name: "header", arg: tString, group: "value", dupErr: duplicateConflict},
			{name: "uniqueid", arg: tString, group: "value", dupErr: duplicateConflict},
			{name: "seconds", arg: tNumber},
			{name: "last"},
		},
		eval: evalDuplicate,
	}}}
}

const duplicateConflict = "conflicting :header and :uniqueid arguments specified for the duplicate test"

const (
	defaultDuplicatePeriod = 12 * time.Hour
	defaultDuplicateMax    = 48 * time.Hour
)

// duplicateID is the tracking id of value under handle ("" for none), as
// Pigeonhole computes it: records with and without :last are kept apart.
func duplicateID(handle *string, value string, last bool) string {
	h := md5.New()
	h.Write([]byte("sieve duplicate"))
	if last {
		h.Write([]byte("0"))
	} else {
		h.Write([]byte("+"))
	}
	if handle != nil {
		h.Write([]byte("h-" + *handle))
	} else {
		h.Write([]byte("default"))
	}
	h.Write([]byte(value))
	return hex.EncodeToString(h.Sum(nil))
}

// messageID returns the "<id>" of a Message-ID field value without
// comments or white space around it; a value without one is used whole.
func messageID(v string) string {
	if i := strings.IndexByte(v, '<'); i >= 0 {
		if j := strings.IndexByte(v[i:], '>'); j > 0 {
			return v[i : i+j+1]
		}
	}
	return strings.TrimSpace(v)
}

func evalDuplicate(r *run, n *node) (bool, error) {
	var value string
	switch {
	case n.has("uniqueid"):
		value = r.string(n.tagValue("uniqueid"))
	default:
		name := "message-id"
		if v := n.tagValue("header"); v != nil {
			name = r.string(v)
		}
		if name == "message-id" {
			vals := r.msg.Header(name)
			if len(vals) == 0 {
				return false, nil
			}
			value = messageID(vals[0])
		} else {
			vals := r.msg.HeaderDecoded(name)
			if len(vals) == 0 {
				return false, nil
			}
			value = vals[0]
		}
	}
	var handle *string
	if v := n.tagValue("handle"); v != nil {
		h := r.string(v)
		handle = &h
	}
	last := n.has("last")
	set := r.settings()
	period := set.Duration("sieve_duplicate_default_period", defaultDuplicatePeriod)
	if v := n.tagValue("seconds"); v != nil {
		period = time.Duration(min(v.num, 1<<32)) * time.Second
	}
	if max := set.Duration("sieve_duplicate_max_period", defaultDuplicateMax); max > 0 && period > max {
		period = max
	}

	id := duplicateID(handle, value, last)
	cache, _ := r.ext["duplicate"].(map[string]bool)
	if cache == nil {
		cache = map[string]bool{}
		r.ext["duplicate"] = cache
	}
	if dup, ok := cache[id]; ok {
		return dup, nil
	}
	if r.env.Duplicates == nil {
		r.warnf(n.pos, "duplicate test: duplicate checking not available in this context")
		return false, nil
	}
	dup, err := r.env.Duplicates.Seen(r.ctx, id)
	if err == nil && !dup && last {
		// An entry recorded without :last counts as well.
		dup, err = r.env.Duplicates.Seen(r.ctx, duplicateID(handle, value, false))
	}
	if err != nil {
		return false, r.errorf(n.pos, "failed to check for duplicate: %v", err)
	}
	if !dup || last {
		r.res.Duplicates = append(r.res.Duplicates, DuplicateMark{ID: id, Period: period})
	}
	cache[id] = dup
	return dup, nil
}

// MemoryDuplicates is a DuplicateChecker that keeps ids in memory, for
// tests and tools; it is safe for concurrent use. Ids are recorded with
// Record once a result has been carried out.
type MemoryDuplicates struct {
	now func() time.Time
	mu  sync.Mutex
	exp map[string]time.Time // id -> expiry
}

// NewMemoryDuplicates returns an empty tracker reading the clock now (nil
// means time.Now).
func NewMemoryDuplicates(now func() time.Time) *MemoryDuplicates {
	if now == nil {
		now = time.Now
	}
	return &MemoryDuplicates{now: now, exp: map[string]time.Time{}}
}

// Seen reports whether id was recorded and has not expired.
func (m *MemoryDuplicates) Seen(ctx context.Context, id string) (bool, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	exp, ok := m.exp[id]
	if !ok {
		return false, nil
	}
	if !m.now().Before(exp) {
		delete(m.exp, id)
		return false, nil
	}
	return true, nil
}

// Record stores marks, each expiring after its period from now; a mark
// for a known id replaces its expiry (the :last behaviour).
func (m *MemoryDuplicates) Record(marks []DuplicateMark) {
	m.mu.Lock()
	defer m.mu.Unlock()
	now := m.now()
	for _, d := range marks {
		m.exp[d.ID] = now.Add(d.Period)
	}
}
