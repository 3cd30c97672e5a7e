package sieve

import (
	"context"
	"strings"
	"testing"
	"time"
)

// sxRun compiles src (failing the test on errors) and runs it against env.
func sxRun(t *testing.T, src string, env *Env) (*Result, error) {
	t.Helper()
	s, err := Compile("test", []byte(src), nil)
	if err != nil {
		t.Fatalf("compile %q: %v", src, err)
	}
	return s.Run(context.Background(), env)
}

// sxKept reports whether a script run ended with a fileinto "yes" (the
// convention of these tests for "the condition held").
func sxYes(t *testing.T, src string, env *Env) bool {
	t.Helper()
	res, err := sxRun(t, src, env)
	if err != nil {
		t.Fatalf("run %q: %v", src, err)
	}
	for _, a := range res.Actions {
		if f, ok := a.(*FileInto); ok && f.Mailbox == "yes" {
			return true
		}
	}
	return false
}

const dateMsg = "From: a@example.org\r\n" +
	"Date: Mon, 20 Jul 2009 21:44:43 +0300\r\n" +
	"Date: Tue, 21 Jul 2009 01:02:03 -0130\r\n" +
	"Received: from x by y; Wed, 22 Jul 2009 10:00:00 +0000 (UTC)\r\n" +
	"X-Bad: Moo, 34 Juul 3060 25:30:42 +6600\r\n" +
	"\r\nbody\r\n"

func TestDateTest(t *testing.T) {
	clock := func() time.Time {
		return time.Date(2026, 3, 1, 23, 30, 0, 0, time.FixedZone("", 2*3600))
	}
	env := func() *Env { return &Env{Message: ParseMessage([]byte(dateMsg)), Now: clock} }
	tests := []struct {
		test string
		want bool
	}{
		{`date :originalzone "date" "std11" "Mon, 20 Jul 2009 21:44:43 +0300"`, true},
		{`date :originalzone "date" "iso8601" "2009-07-20T21:44:43+03:00"`, true},
		{`date :zone "+0000" "date" "iso8601" "2009-07-20T18:44:43Z"`, true},
		{`date "date" "zone" "+0200"`, true}, // local zone is the clock's
		{`date "date" "time" "20:44:43"`, true},
		{`date :zone "-0130" "date" "date" "2009-07-20"`, true},
		{`date :originalzone "date" "julian" "55032"`, true},
		{`date :originalzone "date" "weekday" "1"`, true},
		{`date :originalzone "date" "YEAR" "2009"`, true},
		{`date :originalzone "date" "bogus" "2009"`, false},
		{`date :index 2 :originalzone "date" "zone" "-0130"`, true},
		{`date :index 1 :last :originalzone "date" "day" "21"`, true},
		{`date :originalzone "received" "date" "2009-07-22"`, true},
		{`date :matches "x-bad" "date" "*"`, false},
		{`date :count "eq" "date" "date" "1"`, true},
		{`date :count "eq" "resent-date" "date" "0"`, true},
		{`date :originalzone :value "lt" "date" "date" "2009-07-21"`, true},
		{`currentdate "date" "2026-03-01"`, true},
		{`currentdate :zone "+0000" "iso8601" "2026-03-01T21:30:00Z"`, true},
		{`currentdate :zone "+0000" "std11" "Sun, 01 Mar 2026 21:30:00 +0000"`, true},
		{`currentdate :zone "bad" "zone" "+0200"`, true},
		{`currentdate :zone "-1000" "hour" "11"`, true},
	}
	for _, tc := range tests {
		src := "require [\"date\", \"index\", \"relational\", \"fileinto\"];\nif " + tc.test + " { fileinto \"yes\"; }"
		if got := sxYes(t, src, env()); got != tc.want {
			t.Errorf("%s = %v, want %v", tc.test, got, tc.want)
		}
	}
}

func TestParseMessageDate(t *testing.T) {
	tests := []struct {
		in   string
		want string // RFC 3339 in the original zone, "" when invalid
	}{
		{"Mon, 20 Jul 2009 21:44:43 +0300", "2009-07-20T21:44:43+03:00"},
		{"20 Jul 2009 21:44 -0000", "2009-07-20T21:44:00Z"},
		{"Mon (comment), 20 Jul 99 21:44:43 GMT", "1999-07-20T21:44:43Z"},
		{" 1 jan 05 00:00:00 EST (Eastern)", "2005-01-01T00:00:00-05:00"},
		{"Mon, 20 Jul 2009 21:44:43", "2009-07-20T21:44:43Z"},
		{"1 January 2009 0:00 A", "2009-01-01T00:00:00+01:00"},
		{"1 Jan 69 00:00:00 N", "2069-01-01T00:00:00-01:00"},
		{"1 Jan 70 00:00:00 XYZ", "1970-01-01T00:00:00Z"},
		{"20 Jul 2009 21:44:60 +0160", "2009-07-20T21:44:59+02:00"},
		{"20 Jul 109 21:44:43 +0000", ""},
		{"1 Jan 1899 00:00:00 +0000", ""},
		{"1 Jan 2009 1:2:3 +0000", ""},
		{"1 Ja 2009 00:00:00 +0000", ""},
		{"Moo, 34 Juul 3060 25:30:42 +6600", ""},
		{"31 Feb 2009 10:00:00 +0000", ""},
		{"20 Jul 2009 24:00:00 +0000", ""},
		{"20 Jul 2009", ""},
		{"", ""},
	}
	for _, tc := range tests {
		tm, zone, ok := parseMessageDate(tc.in)
		got := ""
		if ok {
			got = tm.In(time.FixedZone("", zone*60)).Format(time.RFC3339)
		}
		if got != tc.want {
			t.Errorf("parseMessageDate(%q) = %q, want %q", tc.in, got, tc.want)
		}
	}
}

func TestDateErrors(t *testing.T) {
	tests := []struct{ src, want string }{
		{`require "date"; if date :zone "+0100" :originalzone "date" "date" "x" {}`, "encountered duplicate :originalzone argument"},
		{`require "date"; if currentdate :originalzone "date" "x" {}`, "unknown tagged argument ':originalzone'"},
		{`require "date"; if date "date" "x" {}`, "requires 3 positional argument(s), but 2 is/are specified"},
		{`require "date"; if date :last "date" "date" "x" {}`, "unknown tagged argument ':last'"},
		{`if currentdate "date" "x" {}`, "unknown test 'currentdate'"},
	}
	for _, tc := range tests {
		_, err := Compile("t", []byte(tc.src), nil)
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: error %v, want %q", tc.src, err, tc.want)
		}
	}
}

func TestDateWarnings(t *testing.T) {
	tests := []struct{ src, want string }{
		{`require "date"; if currentdate :zone "CET" "date" "x" {}`, "specified :zone argument 'CET' is not a valid timezone"},
		{`require "date"; if date "date" "fortnight" "x" {}`, "specified date part 'fortnight' is not known"},
		{`require "date"; if date :zone "+0100" "date" "Date" "x" {}`, ""},
	}
	for _, tc := range tests {
		s, err := Compile("t", []byte(tc.src), nil)
		if err != nil {
			t.Fatalf("%s: %v", tc.src, err)
		}
		w := s.Warnings()
		switch {
		case tc.want == "" && len(w) != 0:
			t.Errorf("%s: warnings %v, want none", tc.src, w)
		case tc.want != "" && (len(w) != 1 || !strings.Contains(w[0].Msg, tc.want)):
			t.Errorf("%s: warnings %v, want %q", tc.src, w, tc.want)
		}
	}
}

// FuzzParseMessageDate checks the date parser never panics and that what
// it accepts renders back to a date it accepts again.
func FuzzParseMessageDate(f *testing.F) {
	for _, s := range []string{"Mon, 20 Jul 2009 21:44:43 +0300", "1 jan 05 00:00 EST (c)", "Moo, 34 Juul 3060", "x; 1 Jan 70 0:00 Z"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		tm, zone, ok := parseFieldDate(s)
		if !ok {
			return
		}
		std := formatDatePart("std11", tm, zone)
		if _, _, ok := parseMessageDate(std); !ok && tm.In(time.FixedZone("", zone*60)).Year() <= 9999 {
			t.Errorf("%q parsed, but its std11 form %q does not", s, std)
		}
	})
}
