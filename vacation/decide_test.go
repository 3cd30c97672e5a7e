package vacation

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/vacationd/vacationd/sieve"
)

func input(headers string) *Input {
	msg := sieve.ParseMessage([]byte("From: Alice <alice@example.org>\nTo: bob@example.com\nSubject: Hi\nMessage-ID: <m1@example.org>\n" + headers + "\nbody\n"))
	return &Input{
		User:     "bob",
		Action:   &sieve.Vacation{Reason: "away", Handle: "h", Period: 24 * time.Hour, PeriodSet: true},
		Message:  msg,
		Envelope: Envelope{From: "<alice@example.org>", To: "bob@example.com"},
	}
}

// TestOrder checks that when several checks fail the first in Pigeonhole's
// order is reported.
func TestOrder(t *testing.T) {
	all := "List-Id: <l.example.org>\nAuto-Submitted: auto-generated\nPrecedence: bulk\nX-Auto-Response-Suppress: All\n"
	for _, tc := range []struct {
		from, headers string
		want          Reason
	}{
		{"MAILER-DAEMON@example.org", all, MailingList},
		{"MAILER-DAEMON@example.org", strings.SplitN(all, "\n", 2)[1], AutoSubmitted},
		{"MAILER-DAEMON@example.org", "Precedence: bulk\nX-Auto-Response-Suppress: All\n", Precedence},
		{"MAILER-DAEMON@example.org", "X-Auto-Response-Suppress: All\n", AutoResponseSuppress},
		{"MAILER-DAEMON@example.org", "", SystemAddress},
		{"bob@example.com", all, OwnAddress},
		{"", all, NullSender},
	} {
		in := input(tc.headers)
		in.Envelope.From = tc.from
		r := newTestResponder(t, nil)
		d, err := r.Decide(context.Background(), in)
		if err != nil {
			t.Fatal(err)
		}
		if d.Send || d.Reason != tc.want {
			t.Errorf("from %q with %q: send=%v reason=%q, want %q", tc.from, tc.headers, d.Send, d.Reason, tc.want)
		}
	}
}

// TestDedupFlow records a reply the way callers do and checks that the
// second message is a duplicate until the period ends.
func TestDedupFlow(t *testing.T) {
	ctx := context.Background()
	now := fixedNow
	r := newTestResponder(t, nil)
	r.Now = func() time.Time { return now }
	in := input("")
	in.Envelope.From = "Alice@Example.org"

	d, err := r.Decide(ctx, in)
	if err != nil || !d.Send {
		t.Fatalf("first: %+v, %v", d, err)
	}
	if d.Key != (Key{User: "bob", Sender: "alice@example.org", Handle: "h"}) {
		t.Errorf("key %+v", d.Key)
	}
	if !d.Expires.Equal(now.Add(24 * time.Hour)) {
		t.Errorf("expires %v", d.Expires)
	}
	// Deciding alone records nothing.
	if d2, _ := r.Decide(ctx, in); !d2.Send {
		t.Fatalf("Decide recorded the reply: %+v", d2)
	}
	if err := r.Dedup.Mark(ctx, d.Key, d.Now, d.Expires); err != nil {
		t.Fatal(err)
	}
	now = now.Add(23 * time.Hour)
	if d, _ := r.Decide(ctx, in); d.Send || d.Reason != Duplicate {
		t.Errorf("within the period: %+v", d)
	}
	// Another handle is another response.
	in.Action.Handle = "other"
	if d, _ := r.Decide(ctx, in); !d.Send {
		t.Errorf("other handle suppressed: %+v", d)
	}
	in.Action.Handle = "h"
	now = now.Add(time.Hour)
	if d, _ := r.Decide(ctx, in); !d.Send {
		t.Errorf("after the period: %+v", d)
	}
	if n := len(r.Dedup.(*MemoryDedup).Records(now)); n != 0 {
		t.Errorf("%d records left after expiry", n)
	}
}

type failingDedup struct{}

func (failingDedup) Seen(context.Context, Key, time.Time) (bool, error) {
	return false, context.DeadlineExceeded
}
func (failingDedup) Mark(context.Context, Key, time.Time, time.Time) error { return nil }

func TestDedupError(t *testing.T) {
	r := newTestResponder(t, nil)
	r.Dedup = failingDedup{}
	if _, err := r.Decide(context.Background(), input("")); err == nil {
		t.Fatal("no error from a failing dedup store")
	}
	r.Dedup = nil
	if d, err := r.Decide(context.Background(), input("")); err != nil || !d.Send {
		t.Fatalf("without dedup: %+v, %v", d, err)
	}
}

func TestComposeRefusesNoReply(t *testing.T) {
	r := newTestResponder(t, nil)
	if _, err := r.Compose(input(""), &Decision{Reason: Precedence}); err == nil {
		t.Fatal("composed a reply for a suppressed decision")
	}
}

func TestDefaultMessageID(t *testing.T) {
	r := &Responder{Settings: DefaultSettings(), Hostname: "mx.example.com"}
	_, rep, err := r.Respond(context.Background(), input(""))
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(rep.MessageID, "<vacationd.") || !strings.HasSuffix(rep.MessageID, "@mx.example.com>") {
		t.Errorf("Message-ID %q", rep.MessageID)
	}
	if !strings.Contains(string(rep.Message), "\r\nMessage-ID: "+rep.MessageID+"\r\n") && !strings.HasPrefix(string(rep.Message), "Message-ID: "+rep.MessageID+"\r\n") {
		t.Errorf("Message-ID not in the reply:\n%s", rep.Message)
	}
	_, rep2, _ := r.Respond(context.Background(), input(""))
	if rep2.MessageID == rep.MessageID {
		t.Error("two replies with one Message-ID")
	}
}

func TestSanitizeText(t *testing.T) {
	if got := sanitizeText("a\xffb\x00c\r\nd"); got != "a\uFFFDb\uFFFDc\uFFFD\uFFFDd" {
		t.Errorf("sanitizeText = %q", got)
	}
}

func BenchmarkDecideAndCompose(b *testing.B) {
	ctx := context.Background()
	in := input("Cc: Carol <carol@example.net>, Dave <dave@example.net>\nReferences: <m0@example.org>\n")
	in.Action.Subject = "Out of office"
	r := newTestResponder(b, nil)
	b.ReportAllocs()
	for b.Loop() {
		d, rep, err := r.Respond(ctx, in)
		if err != nil || !d.Send || len(rep.Message) == 0 {
			b.Fatalf("%+v %v", d, err)
		}
	}
}
