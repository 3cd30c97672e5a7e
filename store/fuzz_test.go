package store

import (
	"testing"
	"time"
)

// FuzzDecode feeds corrupt values to every record decoder. Decoding must
// never panic, and a value that decodes must describe a record that
// encodes and decodes to itself.
func FuzzDecode(f *testing.F) {
	f.Add(encodeOutbox(&OutboxRecord{To: []string{"a@x"}, Message: []byte("m"), Kind: KindVacation, Attempts: 3,
		Queued: t0, NextAttempt: t0.Add(time.Hour), LastError: "451"}))
	f.Add(encodeDropped(&DroppedRecord{Record: OutboxRecord{To: []string{"a@x", "b@y"}, Kind: KindRedirect, User: "u"},
		Dropped: t0, Reason: "550"}))
	f.Add(encodeDedup(t0, t0.Add(time.Hour)))
	f.Add(encodeScript(t0, []byte("keep;")))
	f.Add([]byte{codecVersion, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01})
	f.Fuzz(func(t *testing.T, v []byte) {
		if r, err := decodeOutbox(7, v); err == nil {
			if r.Attempts < 0 {
				t.Fatalf("outbox record decoded with %d attempts", r.Attempts)
			}
			back, err := decodeOutbox(7, encodeOutbox(&r))
			if err != nil || !sameRecord(back, r) {
				t.Fatalf("outbox round trip: %+v -> %+v, %v", r, back, err)
			}
		}
		if r, err := decodeDropped(7, v); err == nil {
			back, err := decodeDropped(7, encodeDropped(&r))
			if err != nil || !sameRecord(back.Record, r.Record) || back.Reason != r.Reason || !back.Dropped.Equal(r.Dropped) {
				t.Fatalf("dropped round trip: %+v -> %+v, %v", r, back, err)
			}
		}
		if c, e, err := decodeDedup(v); err == nil {
			c2, e2, err := decodeDedup(encodeDedup(c, e))
			if err != nil || !c2.Equal(c) || !e2.Equal(e) {
				t.Fatalf("dedup round trip: %v %v -> %v %v, %v", c, e, c2, e2, err)
			}
		}
		if u, src, err := decodeScript(v); err == nil {
			u2, src2, err := decodeScript(encodeScript(u, src))
			if err != nil || !u2.Equal(u) || string(src2) != string(src) {
				t.Fatalf("script round trip: %v %q -> %v %q, %v", u, src, u2, src2, err)
			}
		}
	})
}
