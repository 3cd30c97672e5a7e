package store

import (
	"encoding/binary"
	"errors"
	"fmt"
	"math"
	"time"
)

// Values are encoded with encoding/binary rather than encoding/json: an
// outbox record is dominated by the message, which JSON would have to
// base64-encode (a third larger, and a copy through an encoder on every
// read); the fixed fields are integers and short strings that varints and
// length prefixes store in a few bytes. Every value starts with a format
// version byte so the layout can change without guessing, and decoding
// checks every length against the remaining input, so a damaged value is a
// clear error naming the record, never a panic.

const codecVersion = 1

var errShort = errors.New("truncated value")

// TimeNano converts t to Unix nanoseconds, with 0 for the zero Time: how
// every store keeps times (the PostgreSQL schema too).
func TimeNano(t time.Time) int64 {
	if t.IsZero() {
		return 0
	}
	return t.UnixNano()
}

// NanoTime is the inverse of TimeNano.
func NanoTime(n int64) time.Time {
	if n == 0 {
		return time.Time{}
	}
	return time.Unix(0, n)
}

// sortNano is TimeNano clamped at 0 as an unsigned value, for index keys
// that must sort by time.
func sortNano(t time.Time) uint64 {
	n := TimeNano(t)
	if n < 0 {
		return 0
	}
	return uint64(n)
}

type encoder struct{ b []byte }

func (e *encoder) byte(v byte)      { e.b = append(e.b, v) }
func (e *encoder) uvarint(v uint64) { e.b = binary.AppendUvarint(e.b, v) }
func (e *encoder) varint(v int64)   { e.b = binary.AppendVarint(e.b, v) }
func (e *encoder) bytes(v []byte)   { e.uvarint(uint64(len(v))); e.b = append(e.b, v...) }
func (e *encoder) string(v string)  { e.uvarint(uint64(len(v))); e.b = append(e.b, v...) }
func (e *encoder) time(t time.Time) { e.varint(TimeNano(t)) }

type decoder struct {
	b   []byte
	err error
}

func (d *decoder) byte() byte {
	if d.err != nil {
		return 0
	}
	if len(d.b) < 1 {
		d.err = errShort
		return 0
	}
	v := d.b[0]
	d.b = d.b[1:]
	return v
}

func (d *decoder) uvarint() uint64 {
	if d.err != nil {
		return 0
	}
	v, n := binary.Uvarint(d.b)
	if n <= 0 {
		d.err = errShort
		return 0
	}
	d.b = d.b[n:]
	return v
}

func (d *decoder) varint() int64 {
	if d.err != nil {
		return 0
	}
	v, n := binary.Varint(d.b)
	if n <= 0 {
		d.err = errShort
		return 0
	}
	d.b = d.b[n:]
	return v
}

// bytes returns a copy, since bbolt values are only valid inside their
// transaction.
func (d *decoder) bytes() []byte {
	n := d.uvarint()
	if d.err != nil {
		return nil
	}
	if n > uint64(len(d.b)) {
		d.err = errShort
		return nil
	}
	if n == 0 {
		return nil
	}
	v := make([]byte, n)
	copy(v, d.b)
	d.b = d.b[n:]
	return v
}

func (d *decoder) string() string {
	n := d.uvarint()
	if d.err != nil {
		return ""
	}
	if n > uint64(len(d.b)) {
		d.err = errShort
		return ""
	}
	v := string(d.b[:n])
	d.b = d.b[n:]
	return v
}

func (d *decoder) time() time.Time { return NanoTime(d.varint()) }

// version consumes and checks the leading version byte.
func (d *decoder) version() {
	if v := d.byte(); d.err == nil && v != codecVersion {
		d.err = fmt.Errorf("unknown format version %d", v)
	}
}

// finish reports the first error, or trailing garbage.
func (d *decoder) finish() error {
	if d.err == nil && len(d.b) != 0 {
		d.err = fmt.Errorf("%d trailing bytes", len(d.b))
	}
	return d.err
}

// Dedup value: version, created, expires as fixed 8-byte big-endian Unix
// nanoseconds (fixed width so Sweep can read the expiry without a decoder).
const dedupValueLen = 1 + 8 + 8

func encodeDedup(created, expires time.Time) []byte {
	v := make([]byte, dedupValueLen)
	v[0] = codecVersion
	binary.BigEndian.PutUint64(v[1:], uint64(TimeNano(created)))
	binary.BigEndian.PutUint64(v[9:], uint64(TimeNano(expires)))
	return v
}

func decodeDedup(v []byte) (created, expires time.Time, err error) {
	if len(v) != dedupValueLen || v[0] != codecVersion {
		return time.Time{}, time.Time{}, fmt.Errorf("bad dedup value (%d bytes)", len(v))
	}
	return NanoTime(int64(binary.BigEndian.Uint64(v[1:]))),
		NanoTime(int64(binary.BigEndian.Uint64(v[9:]))), nil
}

// encodeOutbox encodes every field of r except ID, which is the key.
func encodeOutbox(r *OutboxRecord) []byte {
	e := encoder{b: make([]byte, 0, 64+len(r.From)+len(r.User)+len(r.LastError)+len(r.Message)+32*len(r.To))}
	e.byte(codecVersion)
	e.string(r.Kind)
	e.string(r.User)
	e.string(r.From)
	e.uvarint(uint64(len(r.To)))
	for _, t := range r.To {
		e.string(t)
	}
	e.uvarint(uint64(max(r.Attempts, 0)))
	e.time(r.Queued)
	e.time(r.NextAttempt)
	e.string(r.LastError)
	e.bytes(r.Message)
	return e.b
}

func decodeOutbox(id uint64, v []byte) (OutboxRecord, error) {
	d := decoder{b: v}
	d.version()
	r := OutboxRecord{ID: id}
	r.Kind = d.string()
	r.User = d.string()
	r.From = d.string()
	n := d.uvarint()
	if d.err == nil && n > uint64(len(d.b)) { // each address takes at least one byte
		d.err = errShort
	}
	if d.err == nil && n > 0 {
		r.To = make([]string, n)
		for i := range r.To {
			r.To[i] = d.string()
		}
	}
	// A corrupt count must not turn into a negative int.
	if a := d.uvarint(); a > math.MaxInt32 {
		d.err = fmt.Errorf("attempt count %d out of range", a)
	} else {
		r.Attempts = int(a)
	}
	r.Queued = d.time()
	r.NextAttempt = d.time()
	r.LastError = d.string()
	r.Message = d.bytes()
	if err := d.finish(); err != nil {
		return OutboxRecord{}, fmt.Errorf("decode outbox record %d: %w", id, err)
	}
	return r, nil
}

// Dropped record: version, dropped time, reason, then the outbox encoding
// of the record with its message left out.
func encodeDropped(r *DroppedRecord) []byte {
	e := encoder{}
	e.byte(codecVersion)
	e.time(r.Dropped)
	e.string(r.Reason)
	rec := r.Record
	rec.Message = nil
	e.bytes(encodeOutbox(&rec))
	return e.b
}

func decodeDropped(id uint64, v []byte) (DroppedRecord, error) {
	d := decoder{b: v}
	d.version()
	var r DroppedRecord
	r.Dropped = d.time()
	r.Reason = d.string()
	inner := d.bytes()
	if err := d.finish(); err != nil {
		return DroppedRecord{}, fmt.Errorf("decode dropped record %d: %w", id, err)
	}
	rec, err := decodeOutbox(id, inner)
	if err != nil {
		return DroppedRecord{}, fmt.Errorf("decode dropped record %d: %w", id, err)
	}
	r.Record = rec
	return r, nil
}

// Script value: version, updated, source.
func encodeScript(updated time.Time, source []byte) []byte {
	e := encoder{b: make([]byte, 0, 16+len(source))}
	e.byte(codecVersion)
	e.time(updated)
	e.bytes(source)
	return e.b
}

func decodeScript(v []byte) (updated time.Time, source []byte, err error) {
	d := decoder{b: v}
	d.version()
	updated = d.time()
	source = d.bytes()
	return updated, source, d.finish()
}

// u64 encodes an outbox ID as its 8-byte big-endian key.
func u64(v uint64) []byte {
	var b [8]byte
	binary.BigEndian.PutUint64(b[:], v)
	return b[:]
}
