package sieve

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"
)

const dupMsg = "Message-ID: <m1@example.org>\r\nX-Id: abc\r\nFrom: a@example.org\r\n\r\nbody\r\n"

// deliver runs src on msg like a delivery would: check, then record the
// result's duplicate marks.
func dupDeliver(t *testing.T, s *Script, d *MemoryDuplicates, msg string) (bool, *Result) {
	t.Helper()
	res, err := s.Run(context.Background(), &Env{Message: ParseMessage([]byte(msg)), Duplicates: d})
	if err != nil {
		t.Fatalf("run: %v", err)
	}
	d.Record(res.Duplicates)
	for _, a := range res.Actions {
		if f, ok := a.(*FileInto); ok && f.Mailbox == "yes" {
			return true, res
		}
	}
	return false, res
}

func TestDuplicate(t *testing.T) {
	tests := []struct {
		name  string
		test  string
		msgs  []string // delivered in order
		want  []bool   // duplicate seen for each
		after time.Duration
	}{
		{"message-id", `duplicate`, []string{dupMsg, dupMsg}, []bool{false, true}, 0},
		{"message-id comments", `duplicate`, []string{dupMsg, strings.Replace(dupMsg, "<m1@example.org>", " (resent) <m1@example.org> ", 1)}, []bool{false, true}, 0},
		{"other message", `duplicate`, []string{dupMsg, strings.Replace(dupMsg, "m1@", "m2@", 1)}, []bool{false, false}, 0},
		{"no message-id", `duplicate`, []string{"From: a@b\r\n\r\n", "From: a@b\r\n\r\n"}, []bool{false, false}, 0},
		{"header", `duplicate :header "x-id"`, []string{dupMsg, strings.Replace(dupMsg, "m1@", "m2@", 1)}, []bool{false, true}, 0},
		{"uniqueid", `duplicate :uniqueid "same"`, []string{dupMsg, "From: x@y\r\n\r\n"}, []bool{false, true}, 0},
		{"expired", `duplicate :seconds 60`, []string{dupMsg, dupMsg}, []bool{false, false}, 61 * time.Second},
		{"within period", `duplicate :seconds 60`, []string{dupMsg, dupMsg}, []bool{false, true}, 59 * time.Second},
		{"max period caps", `duplicate :seconds 999999999`, []string{dupMsg, dupMsg}, []bool{false, false}, 49 * time.Hour},
		{"default period", `duplicate`, []string{dupMsg, dupMsg}, []bool{false, false}, 12 * time.Hour},
		{"last", `duplicate :last :seconds 60`, []string{dupMsg, dupMsg, dupMsg}, []bool{false, true, true}, 40 * time.Second},
		{"not last", `duplicate :seconds 60`, []string{dupMsg, dupMsg, dupMsg}, []bool{false, true, false}, 40 * time.Second},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			now := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
			d := NewMemoryDuplicates(func() time.Time { return now })
			s, err := Compile("t", []byte(`require ["duplicate", "fileinto"]; if `+tc.test+` { fileinto "yes"; }`), nil)
			if err != nil {
				t.Fatal(err)
			}
			for i, m := range tc.msgs {
				if i > 0 {
					now = now.Add(tc.after)
				}
				if got, _ := dupDeliver(t, s, d, m); got != tc.want[i] {
					t.Errorf("delivery %d: duplicate = %v, want %v", i+1, got, tc.want[i])
				}
			}
		})
	}
}

func TestDuplicateHandlesAndRunCache(t *testing.T) {
	d := NewMemoryDuplicates(nil)
	s, err := Compile("t", []byte(`require ["duplicate", "fileinto"];
if duplicate :handle "a" { fileinto "a"; }
if duplicate :handle "a" { fileinto "a2"; }
if duplicate :handle "b" { fileinto "b"; }
if duplicate { fileinto "none"; }`), nil)
	if err != nil {
		t.Fatal(err)
	}
	_, res := dupDeliver(t, s, d, dupMsg)
	if len(res.Actions) != 0 {
		t.Fatalf("first delivery: actions %v, want none (one run does not see its own marks)", res.Actions)
	}
	if len(res.Duplicates) != 3 {
		t.Fatalf("marks = %d, want 3 (a, b, default)", len(res.Duplicates))
	}
	_, res = dupDeliver(t, s, d, dupMsg)
	var boxes []string
	for _, a := range res.Actions {
		boxes = append(boxes, a.(*FileInto).Mailbox)
	}
	if got := strings.Join(boxes, ","); got != "a,a2,b,none" {
		t.Errorf("second delivery filed into %s, want a,a2,b,none", got)
	}
}

type failingDup struct{}

func (failingDup) Seen(context.Context, string) (bool, error) {
	return false, errors.New("disk on fire")
}

func TestDuplicateCheckerErrors(t *testing.T) {
	s, err := Compile("t", []byte(`require "duplicate"; if duplicate { discard; }`), nil)
	if err != nil {
		t.Fatal(err)
	}
	msg := ParseMessage([]byte(dupMsg))
	res, err := s.Run(context.Background(), &Env{Message: msg, Duplicates: failingDup{}})
	if err == nil || !strings.Contains(err.Error(), "disk on fire") || !res.ImplicitKeep {
		t.Errorf("failing checker: err %v keep %v, want a runtime error and keep", err, res.ImplicitKeep)
	}
	res, err = s.Run(context.Background(), &Env{Message: msg})
	if err != nil || len(res.Warnings) != 1 || !strings.Contains(res.Warnings[0], "not available") {
		t.Errorf("no checker: err %v warnings %q, want one warning", err, res.Warnings)
	}
}

func TestDuplicateErrors(t *testing.T) {
	tests := []struct{ src, want string }{
		{`require "duplicate"; duplicate;`, "attempted to use test 'duplicate' as command"},
		{`require "duplicate"; if duplicate "x" {}`, "positional"},
		{`require "duplicate"; if duplicate :header "a" :uniqueid "b" {}`, "conflicting :header and :uniqueid arguments"},
		{`require "duplicate"; if duplicate :seconds "a" {}`, "requires a number"},
		{`require "duplicate"; if duplicate :handle ["a", "b"] {}`, "requires a string"},
	}
	for _, tc := range tests {
		_, err := Compile("t", []byte(tc.src), nil)
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: error %v, want %q", tc.src, err, tc.want)
		}
	}
}
