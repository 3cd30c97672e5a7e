package store

import (
	"errors"
	"strings"
	"testing"
	"time"
)

func TestOutboxCodec(t *testing.T) {
	tests := []OutboxRecord{
		{ID: 1, To: []string{"a@x"}, Message: []byte("m"), Kind: KindVacation},
		{ID: 1 << 40, From: "b@y", To: []string{"a@x", "c@z", strings.Repeat("d", 300)}, Message: []byte(strings.Repeat("\x00\xff", 5000)),
			Kind: KindRedirect, User: "u@x", Attempts: 17, Queued: t0, NextAttempt: t0.Add(90 * time.Minute), LastError: "452 4.2.2 over quota"},
		{ID: 2, To: []string{"a@x"}, Message: []byte("m"), Kind: KindVacation, Queued: time.Unix(0, 1), NextAttempt: time.Unix(-5, 0)},
	}
	for _, want := range tests {
		v := encodeOutbox(&want)
		got, err := decodeOutbox(want.ID, v)
		if err != nil {
			t.Fatal(err)
		}
		if !sameRecord(got, want) {
			t.Errorf("round trip:\n got %+v\nwant %+v", got, want)
		}
		// Every strict prefix and a trailing byte are errors, not panics.
		for i := range len(v) {
			if _, err := decodeOutbox(want.ID, v[:i]); err == nil {
				t.Errorf("prefix of %d/%d bytes decoded without error", i, len(v))
				break
			}
		}
		if _, err := decodeOutbox(want.ID, append(v, 0)); err == nil || !strings.Contains(err.Error(), "trailing") {
			t.Errorf("trailing byte: err = %v", err)
		}
	}
	v := encodeOutbox(&tests[0])
	v[0] = 9
	if _, err := decodeOutbox(7, v); err == nil || !strings.Contains(err.Error(), "record 7") || !strings.Contains(err.Error(), "version 9") {
		t.Errorf("bad version: err = %v", err)
	}
}

func TestDedupCodec(t *testing.T) {
	c, e, err := decodeDedup(encodeDedup(t0, t0.Add(time.Hour)))
	if err != nil || !c.Equal(t0) || !e.Equal(t0.Add(time.Hour)) {
		t.Errorf("round trip: %v %v %v", c, e, err)
	}
	if _, _, err := decodeDedup(make([]byte, 5)); err == nil {
		t.Error("short value decoded")
	}
}

func TestDroppedAndScriptCodec(t *testing.T) {
	d := DroppedRecord{Record: OutboxRecord{ID: 5, To: []string{"a@x"}, Message: []byte("gone"), Kind: KindVacation, Queued: t0},
		Dropped: t0.Add(time.Hour), Reason: "550 no"}
	got, err := decodeDropped(5, encodeDropped(&d))
	if err != nil || got.Reason != d.Reason || !got.Dropped.Equal(d.Dropped) || got.Record.Message != nil || got.Record.To[0] != "a@x" {
		t.Errorf("dropped round trip: %+v %v", got, err)
	}
	if _, err := decodeDropped(5, []byte{1, 2}); err == nil {
		t.Error("bad dropped value decoded")
	}
	u, src, err := decodeScript(encodeScript(t0, []byte("keep;")))
	if err != nil || !u.Equal(t0) || string(src) != "keep;" {
		t.Errorf("script round trip: %v %q %v", u, src, err)
	}
	if _, _, err := decodeScript([]byte{1}); !errors.Is(err, errShort) {
		t.Errorf("short script err = %v", err)
	}
}
