package store

import (
	"bytes"
	"context"
	"encoding/binary"
	"fmt"
	"log/slog"
	"slices"
	"strings"
	"time"

	bolt "go.etcd.io/bbolt"
)

// DedupKey identifies one "already replied" fact: user (the recipient whose
// script answered), sender (who got the reply) and the vacation handle.
// The store lowercases User and Sender; Handle is compared exactly.
type DedupKey struct{ User, Sender, Handle string }

// DedupRecord is a stored dedup mark.
type DedupRecord struct {
	Key              DedupKey
	Created, Expires time.Time
}

// Mark is a dedup record to write with [Outbox.Commit]. A record is live
// while now < Expires.
type Mark struct {
	Key              DedupKey
	Created, Expires time.Time
	// Reply, when not nil, makes the mark exclusive: it is one of the
	// records of the same Commit, the reply this mark stands for. Commit
	// writes the mark and stores Reply only if no live mark for Key exists
	// at Created; otherwise another delivery replied first, and neither
	// is written (Reply.ID stays 0).
	Reply *OutboxRecord
}

// sweepChunk bounds how many expired records one Sweep transaction deletes,
// so a large backlog does not hold the writer for long.
const sweepChunk = 10000

// dedupKey validates k and returns its bbolt key:
// lower(user) 0x00 lower(sender) 0x00 handle.
func dedupKey(k DedupKey) ([]byte, error) {
	if k.User == "" {
		return nil, fmt.Errorf("dedup key: empty user: %w", ErrInvalid)
	}
	if k.Sender == "" {
		return nil, fmt.Errorf("dedup key for %q: empty sender: %w", k.User, ErrInvalid)
	}
	if strings.IndexByte(k.User, 0) >= 0 || strings.IndexByte(k.Sender, 0) >= 0 {
		return nil, fmt.Errorf("dedup key for %q: NUL byte in user or sender: %w", k.User, ErrInvalid)
	}
	n := len(k.User) + len(k.Sender) + len(k.Handle) + 2
	if n > bolt.MaxKeySize-8 {
		return nil, fmt.Errorf("dedup key for %q: %d bytes, limit %d: %w", k.User, n, bolt.MaxKeySize-8, ErrInvalid)
	}
	b := make([]byte, 0, n)
	b = append(b, strings.ToLower(k.User)...)
	b = append(b, 0)
	b = append(b, strings.ToLower(k.Sender)...)
	b = append(b, 0)
	b = append(b, k.Handle...)
	return b, nil
}

// dedupPrefix returns the key prefix selecting all of user's records, or
// one sender's when sender is not empty.
func dedupPrefix(user, sender string) ([]byte, error) {
	if user == "" {
		return nil, fmt.Errorf("dedup: empty user: %w", ErrInvalid)
	}
	if strings.IndexByte(user, 0) >= 0 || strings.IndexByte(sender, 0) >= 0 {
		return nil, fmt.Errorf("dedup: NUL byte in user or sender: %w", ErrInvalid)
	}
	p := append([]byte(strings.ToLower(user)), 0)
	if sender != "" {
		p = append(p, strings.ToLower(sender)...)
		p = append(p, 0)
	}
	return p, nil
}

func parseDedupKey(k []byte) (DedupKey, error) {
	parts := bytes.SplitN(k, []byte{0}, 3)
	if len(parts) != 3 {
		return DedupKey{}, fmt.Errorf("bad dedup key %q", k)
	}
	return DedupKey{User: string(parts[0]), Sender: string(parts[1]), Handle: string(parts[2])}, nil
}

// expKey is the dedup_exp index key: expires(8) followed by the dedup key.
func expKey(expires time.Time, key []byte) []byte {
	b := make([]byte, 8, 8+len(key))
	binary.BigEndian.PutUint64(b, sortNano(expires))
	return append(b, key...)
}

// putMark upserts one dedup record and keeps the expiry index in step.
func putMark(tx *bolt.Tx, key []byte, m Mark) error {
	d, x := tx.Bucket(bucketDedup), tx.Bucket(bucketDedupExp)
	if old := d.Get(key); old != nil {
		if _, exp, err := decodeDedup(old); err == nil {
			if err := x.Delete(expKey(exp, key)); err != nil {
				return err
			}
		}
	}
	if err := d.Put(key, encodeDedup(m.Created, m.Expires)); err != nil {
		return fmt.Errorf("put dedup record: %w", err)
	}
	if err := x.Put(expKey(m.Expires, key), []byte{}); err != nil {
		return fmt.Errorf("put dedup expiry: %w", err)
	}
	return nil
}

// Seen reports whether a live dedup record for k exists, that is one with
// now < Expires. An expired record that Sweep has not yet removed is not
// seen. It reads a single key in a read-only transaction and sees every
// Commit that has returned.
func (db *DB) Seen(ctx context.Context, k DedupKey, now time.Time) (bool, error) {
	if err := ctx.Err(); err != nil {
		return false, err
	}
	key, err := dedupKey(k)
	if err != nil {
		return false, err
	}
	var seen bool
	err = db.view(func(tx *bolt.Tx) error {
		v := tx.Bucket(bucketDedup).Get(key)
		if v == nil {
			return nil
		}
		_, exp, err := decodeDedup(v)
		if err != nil {
			return fmt.Errorf("dedup record %q: %w", key, err)
		}
		seen = now.Before(exp)
		return nil
	})
	if err != nil {
		return false, fmt.Errorf("seen: %w", err)
	}
	return seen, nil
}

// ListDedup returns user's dedup records, or only those for sender when it
// is not empty, in key order (sender, then handle). It includes expired
// records Sweep has not yet removed; compare Expires with the clock.
func (db *DB) ListDedup(user, sender string) ([]DedupRecord, error) {
	prefix, err := dedupPrefix(user, sender)
	if err != nil {
		return nil, err
	}
	var out []DedupRecord
	err = db.view(func(tx *bolt.Tx) error {
		c := tx.Bucket(bucketDedup).Cursor()
		for k, v := c.Seek(prefix); k != nil && bytes.HasPrefix(k, prefix); k, v = c.Next() {
			key, err := parseDedupKey(k)
			if err != nil {
				return err
			}
			created, exp, err := decodeDedup(v)
			if err != nil {
				return fmt.Errorf("dedup record %q: %w", k, err)
			}
			out = append(out, DedupRecord{Key: key, Created: created, Expires: exp})
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("list dedup for %q: %w", user, err)
	}
	return out, nil
}

// ForgetDedup deletes user's dedup records (only sender's when sender is
// not empty) and returns how many it deleted, so the next message from that
// sender gets a reply. It is durable when it returns.
func (db *DB) ForgetDedup(user, sender string) (int, error) {
	prefix, err := dedupPrefix(user, sender)
	if err != nil {
		return 0, err
	}
	var n int
	err = db.w.do(context.Background(), func(tx *bolt.Tx) error {
		n = 0
		d, x := tx.Bucket(bucketDedup), tx.Bucket(bucketDedupExp)
		c := d.Cursor()
		for k, v := c.Seek(prefix); k != nil && bytes.HasPrefix(k, prefix); k, v = c.Seek(prefix) {
			if _, exp, err := decodeDedup(v); err == nil {
				if err := x.Delete(expKey(exp, k)); err != nil {
					return err
				}
			}
			if err := d.Delete(k); err != nil {
				return err
			}
			n++
		}
		return nil
	})
	if err != nil {
		return 0, fmt.Errorf("forget dedup for %q: %w", user, err)
	}
	return n, nil
}

// Sweep deletes every dedup record with Expires <= now and returns how
// many it deleted. It walks the expiry index, so its cost is proportional
// to the number of expired records, and commits in chunks of at most
// 10000 deletions; each chunk is durable when the next starts.
func (db *DB) Sweep(now time.Time) (int, error) {
	limit := sortNano(now)
	total := 0
	for {
		var n int
		err := db.w.do(context.Background(), func(tx *bolt.Tx) error {
			n = 0
			d, x := tx.Bucket(bucketDedup), tx.Bucket(bucketDedupExp)
			c := x.Cursor()
			for k, _ := c.First(); k != nil && n < sweepChunk; k, _ = c.First() {
				if len(k) < 8 || binary.BigEndian.Uint64(k) > limit {
					break
				}
				key := k[8:]
				// Delete the record only if it still carries this expiry; an
				// index entry whose record was overwritten is just removed.
				if v := d.Get(key); v != nil {
					if _, exp, err := decodeDedup(v); err != nil || sortNano(exp) <= limit {
						if err := d.Delete(key); err != nil {
							return err
						}
						n++
					}
				}
				if err := c.Delete(); err != nil {
					return err
				}
			}
			return nil
		})
		total += n
		if err != nil {
			return total, fmt.Errorf("sweep: %w", err)
		}
		if n < sweepChunk {
			return total, nil
		}
	}
}

// RunSweeper calls Sweep(now()) at once and then every interval until ctx
// is done, logging errors and non-zero counts to the DB's logger.
func (db *DB) RunSweeper(ctx context.Context, every time.Duration, now func() time.Time) {
	RunSweeper(ctx, every, now, db.Sweep, db.log, "db", db.path)
}

// RunSweeper is the loop behind every store's RunSweeper: it calls
// sweep(now()) at once and then every interval until ctx is done, logging
// errors and non-zero counts to log with attrs (which name the store).
func RunSweeper(ctx context.Context, every time.Duration, now func() time.Time, sweep func(time.Time) (int, error), log *slog.Logger, attrs ...any) {
	t := time.NewTicker(every)
	defer t.Stop()
	for {
		n, err := sweep(now())
		switch {
		case err != nil:
			log.Error("dedup sweep failed", slices.Concat(attrs, []any{"err", err})...)
		case n > 0:
			log.Debug("dedup sweep", slices.Concat(attrs, []any{"deleted", n})...)
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

// DedupCount returns the number of stored dedup records, expired ones not
// yet swept included.
func (db *DB) DedupCount() (int, error) {
	var n int
	err := db.view(func(tx *bolt.Tx) error {
		n = tx.Bucket(bucketDedup).Stats().KeyN
		return nil
	})
	if err != nil {
		return 0, fmt.Errorf("dedup count: %w", err)
	}
	return n, nil
}
