package delivery

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/vacationd/vacationd/sieve"
	"github.com/vacationd/vacationd/store"
	"github.com/vacationd/vacationd/transport"
)

// pigeonholeReply is a vacation reply as Dovecot submits it for bob+x.
func pigeonholeReply(inReplyTo string) string {
	h := "Message-ID: <dovecot-sieve-1.2.3@mx.example.test>\r\n" +
		"Date: Mon, 30 Nov 2026 10:40:35 +0000\r\n" +
		"X-Sieve: Pigeonhole Sieve 0.5.19 (4eae2f79)\r\n" +
		"From: <bob@example.test>\r\nTo: <henry@internet.example>\r\nSubject: Auto: hello\r\n"
	if inReplyTo != "" {
		h += "In-Reply-To: " + inReplyTo + "\r\nReferences: " + inReplyTo + "\r\n"
	}
	return h + "Auto-Submitted: auto-replied (vacation)\r\nPrecedence: bulk\r\nMIME-Version: 1.0\r\n" +
		"Content-Type: text/plain; charset=utf-8\r\nContent-Transfer-Encoding: 8bit\r\n\r\nBack soon\r\n"
}

type submissionFixture struct {
	db      *store.DB
	addr    string
	metrics *SubmissionMetrics
}

func newSubmissionFixture(t *testing.T, state State, allowed string) *submissionFixture {
	t.Helper()
	db, err := store.Open(filepath.Join(t.TempDir(), "vacationd.db"), store.Options{NoSync: true})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	if state == nil {
		state = db
	}
	f := &submissionFixture{db: db, metrics: NewSubmissionMetrics(nil)}
	sub, err := NewSubmission(SubmissionConfig{
		State: state, Allowed: []netip.Prefix{netip.MustParsePrefix(allowed)},
		RecipientDelimiter: "+-", Metrics: f.metrics,
	})
	if err != nil {
		t.Fatal(err)
	}
	f.addr = listenTransport(t, transport.Config{Deliverer: sub, SMTP: true, Hostname: "vacationd.test"})
	return f
}

// submit speaks to the listener as Dovecot does: EHLO, MAIL, RCPT, then
// BDAT n LAST when bdat (else DATA); it returns the last reply.
func (f *submissionFixture) submit(t *testing.T, from, to, msg string, bdat bool) string {
	t.Helper()
	c, err := net.Dial("tcp", f.addr)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	c.SetDeadline(time.Now().Add(10 * time.Second))
	r := bufio.NewReader(c)
	reply := func() string {
		var last string
		for {
			l, err := r.ReadString('\n')
			if err != nil {
				t.Fatalf("reading reply: %v", err)
			}
			last = strings.TrimRight(l, "\r\n")
			if len(last) < 4 || last[3] != '-' {
				return last
			}
		}
	}
	cmd := func(s string) string {
		fmt.Fprintf(c, "%s\r\n", s)
		return reply()
	}
	reply() // greeting
	if got := cmd("EHLO mx.example.test"); !strings.HasPrefix(got, "250") {
		t.Fatalf("EHLO: %s", got)
	}
	if got := cmd("MAIL FROM:<" + from + ">"); !strings.HasPrefix(got, "250") {
		t.Fatalf("MAIL: %s", got)
	}
	if got := cmd("RCPT TO:<" + to + ">"); !strings.HasPrefix(got, "250") {
		return got
	}
	if bdat {
		fmt.Fprintf(c, "BDAT %d LAST\r\n%s", len(msg), msg)
		return reply()
	}
	if got := cmd("DATA"); !strings.HasPrefix(got, "354") {
		t.Fatalf("DATA: %s", got)
	}
	return cmd(msg + ".")
}

func TestSubmissionDropsDecidedVacationReply(t *testing.T) {
	f := newSubmissionFixture(t, nil, "127.0.0.0/8")
	now := time.Now()
	orig := sieve.ParseMessage([]byte("Message-ID: <m1@internet.example>\r\nSubject: hello\r\n\r\nhi\r\n"))
	noID := sieve.ParseMessage([]byte("Subject: no id\r\n\r\nhi\r\n"))
	marks := []store.Mark{
		DecisionMark("bob@example.test", "henry@internet.example", orig, now, DefaultDecisionTTL),
		DecisionMark("bob@example.test", "Irene@Internet.Example", noID, now, DefaultDecisionTTL),
	}
	if err := f.db.Commit(context.Background(), marks, nil); err != nil {
		t.Fatal(err)
	}
	// Dovecot's reply to the decided message, from bob with his detail, by BDAT.
	if got := f.submit(t, "bob+x@example.test", "henry@internet.example", pigeonholeReply("<m1@internet.example>"), true); !strings.HasPrefix(got, "250") {
		t.Fatalf("decided reply: %s", got)
	}
	// A message without Message-ID: Pigeonhole's reply has no In-Reply-To.
	if got := f.submit(t, "bob@example.test", "irene@internet.example", pigeonholeReply(""), true); !strings.HasPrefix(got, "250") {
		t.Fatalf("decided reply without In-Reply-To: %s", got)
	}
	if n := f.metrics.Messages.Value("dropped"); n != 2 {
		t.Errorf("dropped = %d, want 2", n)
	}
	if recs, _ := f.db.ListOutbox(); len(recs) != 0 {
		t.Fatalf("dropped replies queued: %+v", recs)
	}

	// Not decided by vacationd: another message, another user, another
	// sender without In-Reply-To, and a redirect (no Auto-Submitted).
	other := pigeonholeReply("<m2@internet.example>")
	redirect := "From: henry@internet.example\r\nTo: bob@example.test\r\nSubject: fwd\r\n\r\nforwarded\r\n"
	for _, c := range []struct {
		from, to, msg string
		bdat          bool
	}{
		{"bob@example.test", "henry@internet.example", other, true},
		{"carol@example.test", "henry@internet.example", pigeonholeReply("<m1@internet.example>"), true},
		{"bob@example.test", "jim@internet.example", pigeonholeReply(""), false},
		{"henry@internet.example", "bob@elsewhere.example", redirect, false},
		{"", "henry@internet.example", "Subject: Disposition notification\r\n\r\nread\r\n", true}, // the null sender
	} {
		if got := f.submit(t, c.from, c.to, c.msg, c.bdat); !strings.HasPrefix(got, "250") {
			t.Fatalf("%s -> %s: %s", c.from, c.to, got)
		}
	}
	recs, err := f.db.ListOutbox()
	if err != nil {
		t.Fatal(err)
	}
	if len(recs) != 5 {
		t.Fatalf("%d records queued, want 5", len(recs))
	}
	if recs[0].Kind != store.KindSubmission || recs[0].From != "bob@example.test" || recs[0].To[0] != "henry@internet.example" {
		t.Errorf("record: %+v", recs[0])
	}
	if string(recs[0].Message) != other {
		t.Errorf("queued message differs from the submitted one:\n%q\nwant\n%q", recs[0].Message, other)
	}
	if recs[4].From != "" {
		t.Errorf("null sender queued as %q", recs[4].From)
	}
	if n := f.metrics.Messages.Value("queued"); n != 5 {
		t.Errorf("queued = %d, want 5", n)
	}
}

func TestSubmissionRefusesOtherNetworks(t *testing.T) {
	f := newSubmissionFixture(t, nil, "10.0.0.0/8")
	got := f.submit(t, "bob@example.test", "henry@internet.example", pigeonholeReply(""), true)
	if !strings.HasPrefix(got, "554 5.7.1") {
		t.Fatalf("RCPT from outside the allowed networks: %s, want 554 5.7.1", got)
	}
	if n := f.metrics.Messages.Value("refused"); n != 1 {
		t.Errorf("refused = %d, want 1", n)
	}
}

// failingState is a store that does not answer.
type failingState struct{}

func (failingState) Seen(context.Context, store.DedupKey, time.Time) (bool, error) {
	return false, errors.New("store down")
}

func (failingState) Commit(context.Context, []store.Mark, []*store.OutboxRecord) error {
	return errors.New("store down")
}

func TestSubmissionStoreDownIsTemporary(t *testing.T) {
	f := newSubmissionFixture(t, failingState{}, "127.0.0.0/8")
	for _, msg := range []string{pigeonholeReply("<m1@x>"), "Subject: x\r\n\r\nx\r\n"} {
		if got := f.submit(t, "bob@example.test", "henry@internet.example", msg, true); !strings.HasPrefix(got, "451") {
			t.Fatalf("store down: %s, want 451", got)
		}
	}
}
