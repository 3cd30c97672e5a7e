package vacation

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"
)

func TestRateLimit(t *testing.T) {
	t0 := time.Date(2026, 1, 2, 3, 0, 0, 0, time.UTC)
	type try struct {
		to   string
		at   time.Duration // after t0
		want bool
	}
	rotate := func(n int, at time.Duration, want bool) []try {
		var out []try
		for i := range n {
			out = append(out, try{fmt.Sprintf("<Victim+%d@Example.ORG>", i), at, want})
		}
		return out
	}
	tests := []struct {
		name       string
		perAddress int
		perMinute  int
		delims     string
		tries      []try
	}{
		{name: "per address, detail and case ignored", perAddress: 3, tries: append(rotate(3, 0, true),
			try{"victim@example.org", time.Second, false}, try{"VICTIM+x@example.org", 2 * time.Second, false},
			try{"other@example.org", 3 * time.Second, true})},
		{name: "window of an hour", perAddress: 1, tries: []try{
			{"a@example.org", 0, true}, {"a@example.org", 59 * time.Minute, false}, {"a@example.org", time.Hour, true}}},
		{name: "global per minute", perMinute: 2, tries: []try{
			{"a@example.org", 0, true}, {"b@example.org", time.Second, true}, {"c@example.org", 2 * time.Second, false},
			{"c@example.org", time.Minute, true}}},
		{name: "other delimiter", perAddress: 1, delims: "-", tries: []try{
			{"v-1@example.org", 0, true}, {"v-2@example.org", 0, false}, {"v+3@example.org", 0, true}}},
		{name: "quoted and bracketed", perAddress: 1, tries: []try{
			{"<v+1@example.org>", 0, true}, {"v@EXAMPLE.org", 0, false}}},
		{name: "off", tries: rotate(50, 0, true)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			l := RateLimit{PerAddress: tt.perAddress, PerMinute: tt.perMinute, Delimiters: tt.delims, Counts: NewRateCounts()}
			for i, tr := range tt.tries {
				ok, why := l.Allow(tr.to, t0.Add(tr.at))
				if ok != tr.want {
					t.Fatalf("try %d (%s at +%s): allowed %v (%s), want %v", i, tr.to, tr.at, ok, why, tr.want)
				}
				if !ok && !strings.Contains(why, "sieve_vacation_max_replies_per_") {
					t.Errorf("reason %q does not name the setting", why)
				}
			}
		})
	}
}

// TestRateLimitForgets: addresses with no reply in the last hour are
// forgotten, so memory follows the traffic of the last hour.
func TestRateLimitForgets(t *testing.T) {
	t0 := time.Date(2026, 1, 2, 3, 0, 0, 0, time.UTC)
	c := NewRateCounts()
	l := RateLimit{PerAddress: 10, Counts: c}
	for i := range 100 {
		l.Allow(fmt.Sprintf("u%d@example.org", i), t0)
	}
	l.Allow("late@example.org", t0.Add(2*time.Hour))
	if n := len(c.sent); n != 1 {
		t.Errorf("%d addresses remembered two hours later, want 1", n)
	}
}

// TestDecideRateLimited: one forged message to many users, from rotating
// victim+N@ senders, gets replies only up to the per-address limit; the
// rest stop with the reason rate-limited. A reload's new limits keep the
// counts.
func TestDecideRateLimited(t *testing.T) {
	counts := NewRateCounts()
	s := DefaultSettings()
	r := newTestResponder(t, nil)
	r.Limiter = RateLimit{PerAddress: s.MaxRepliesPerAddress, PerMinute: s.MaxRepliesPerMinute, Counts: counts}
	sent := 0
	for i := range 100 {
		in := input("")
		in.User = fmt.Sprintf("user%d", i)
		in.Envelope.From = fmt.Sprintf("victim+%d@example.org", i)
		d, err := r.Decide(context.Background(), in)
		if err != nil {
			t.Fatal(err)
		}
		if d.Send {
			sent++
			continue
		}
		if d.Reason != RateLimited || !strings.Contains(d.Detail, "rate-limited") {
			t.Fatalf("message %d: reason %q (%s)", i, d.Reason, d.Detail)
		}
	}
	if sent != 10 {
		t.Errorf("%d replies to one victim, want the default limit 10", sent)
	}
	r.Limiter = RateLimit{PerAddress: 11, Counts: counts} // a reload raising the limit
	in := input("")
	in.Envelope.From = "victim@example.org"
	if d, _ := r.Decide(context.Background(), in); !d.Send {
		t.Errorf("after raising the limit to 11: %s", d.Detail)
	}
	if d, _ := r.Decide(context.Background(), in); d.Send || d.Reason == RateLimited {
		// the same user and sender again: dedup answers first
		t.Logf("second: %s %s", d.Reason, d.Detail)
	}
}

func TestRateLimitSettings(t *testing.T) {
	s, err := ParseSettings(map[string]string{
		"sieve_vacation_max_replies_per_address": "5",
		"sieve_vacation_max_replies_per_minute":  "0",
	})
	if err != nil {
		t.Fatal(err)
	}
	if s.MaxRepliesPerAddress != 5 || s.MaxRepliesPerMinute != 0 {
		t.Errorf("got %d, %d", s.MaxRepliesPerAddress, s.MaxRepliesPerMinute)
	}
	if d := DefaultSettings(); d.MaxRepliesPerAddress != 10 || d.MaxRepliesPerMinute != 1000 {
		t.Errorf("defaults %d, %d", d.MaxRepliesPerAddress, d.MaxRepliesPerMinute)
	}
	if _, err := ParseSettings(map[string]string{"sieve_vacation_max_replies_per_minute": "-1"}); err == nil {
		t.Error("negative count accepted")
	}
	if !IsSetting("sieve_vacation_max_replies_per_address") {
		t.Error("IsSetting false")
	}
}

// TestRateLimitRefund: a reply refunded (not sent after all) no longer
// counts toward either limit; refunding one never allowed changes nothing.
func TestRateLimitRefund(t *testing.T) {
	t0 := time.Date(2026, 1, 2, 3, 0, 0, 0, time.UTC)
	l := RateLimit{PerAddress: 1, PerMinute: 1, Counts: NewRateCounts()}
	if ok, why := l.Allow("Victim+1@example.org", t0); !ok {
		t.Fatal(why)
	}
	l.Refund("victim+2@example.org", t0.Add(time.Second)) // never allowed then
	if ok, _ := l.Allow("victim@example.org", t0.Add(time.Second)); ok {
		t.Fatal("allowed past the limit after refunding a reply never allowed")
	}
	l.Refund("victim+2@example.org", t0)
	if ok, why := l.Allow("victim@example.org", t0.Add(2*time.Second)); !ok {
		t.Errorf("refunded reply still counted: %s", why)
	}
	if len(l.Counts.minute) != 1 || len(l.Counts.sent) != 1 {
		t.Errorf("counts after refund: minute %d, addresses %d; want 1, 1", len(l.Counts.minute), len(l.Counts.sent))
	}
}
