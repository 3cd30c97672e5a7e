package delivery

import (
	"context"
	"fmt"
	"github.com/vacationd/vacationd/sieve"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/vacationd/vacationd/store"
	"github.com/vacationd/vacationd/transport"
	"github.com/vacationd/vacationd/vacation"
)

const testMsg = "From: Alice <alice@example.org>\r\nTo: Bob <bob@example.com>, carol@example.com\r\n" +
	"Subject: Meeting\r\nMessage-ID: <m1@example.org>\r\n\r\nHi Bob.\r\n"

var t0 = time.Date(2026, 11, 26, 12, 0, 0, 0, time.UTC)

type fixture struct {
	dir     string
	fsync   bool // open the store with fsync (benchmarks)
	db      *store.DB
	svc     *Service
	scripts string
}

func newFixture(t testing.TB, scripts map[string]string, down Downstream) *fixture {
	t.Helper()
	dir := t.TempDir()
	sdir := filepath.Join(dir, "scripts")
	for name, src := range scripts {
		p := filepath.Join(sdir, name)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(src), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	f := &fixture{dir: dir, scripts: sdir}
	f.open(t, down)
	return f
}

func (f *fixture) open(t testing.TB, down Downstream) {
	t.Helper()
	db, err := store.Open(filepath.Join(f.dir, "vacationd.db"), store.Options{NoSync: !f.fsync})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	now := func() time.Time { return t0 }
	vs := vacation.DefaultSettings()
	svc, err := New(Config{
		Source: DirSource(f.scripts), RecipientDelimiter: "+", Store: db, Compiler: NewCompiler(sieve.Options{Extensions: "+editheader +vacation-seconds"}, nil),
		Responder:  &vacation.Responder{Settings: vs, Dedup: StoreDedup{DB: db}, Now: now, Hostname: "mx.example.com"},
		Downstream: down, Hostname: "mx.example.com",
		Logger: slog.New(slog.NewTextHandler(io.Discard, nil)), Now: now,
	})
	if err != nil {
		t.Fatal(err)
	}
	f.db, f.svc = db, svc
}

func (f *fixture) deliver(t *testing.T, from string, rcpts ...string) []transport.Status {
	t.Helper()
	return f.deliverMsg(t, testMsg, from, rcpts...)
}

func (f *fixture) deliverMsg(t *testing.T, msg, from string, rcpts ...string) []transport.Status {
	t.Helper()
	env := &transport.Envelope{From: from}
	for _, r := range rcpts {
		env.Recipients = append(env.Recipients, transport.Recipient{Addr: r})
	}
	return f.svc.Deliver(context.Background(), env, []byte(msg))
}

func (f *fixture) outbox(t *testing.T) []store.OutboxRecord {
	t.Helper()
	recs, err := f.db.ListOutbox()
	if err != nil {
		t.Fatal(err)
	}
	return recs
}

const vacationScript = "require \"vacation\";\nvacation :days 3 :subject \"Away\" \"I am away\";\n"

func TestVacationOncePerSenderAcrossRestart(t *testing.T) {
	f := newFixture(t, map[string]string{"example.com/bob.sieve": vacationScript}, nil)
	st := f.deliver(t, "alice@example.org", "bob@example.com")
	if len(st) != 1 || st[0].Code != 250 {
		t.Fatalf("status = %v", st)
	}
	recs := f.outbox(t)
	if len(recs) != 1 {
		t.Fatalf("outbox has %d records, want 1", len(recs))
	}
	r := recs[0]
	if r.From != "" || len(r.To) != 1 || r.To[0] != "alice@example.org" || r.Kind != store.KindVacation {
		t.Errorf("record envelope = %q -> %v (%s)", r.From, r.To, r.Kind)
	}
	if !strings.Contains(string(r.Message), "Subject: Away") {
		t.Errorf("reply lacks subject:\n%s", r.Message)
	}
	// The same message again: no second reply.
	f.deliver(t, "alice@example.org", "bob@example.com")
	if n := len(f.outbox(t)); n != 1 {
		t.Fatalf("after duplicate: outbox has %d records, want 1", n)
	}
	// After a restart still none.
	f.db.Close()
	f.open(t, nil)
	f.deliver(t, "Alice@Example.org", "bob@example.com")
	if n := len(f.outbox(t)); n != 1 {
		t.Fatalf("after restart: outbox has %d records, want 1", n)
	}
}

func TestConcurrentMessagesReplyOnce(t *testing.T) {
	f := newFixture(t, map[string]string{"example.com/bob.sieve": vacationScript}, nil)
	var wg sync.WaitGroup
	for range 16 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			f.deliver(t, "alice@example.org", "bob@example.com")
		}()
	}
	wg.Wait()
	if n := len(f.outbox(t)); n != 1 {
		t.Fatalf("outbox has %d records, want exactly 1", n)
	}
}

func TestRecipientOutcomes(t *testing.T) {
	scripts := map[string]string{
		"example.com/bob.sieve":    vacationScript,
		"example.com/broken.sieve": "require \"vacation\";\nvacation :days \"x\" \"away\"\n",
		"example.com/rej.sieve":    "require \"reject\";\nreject \"no thanks\r\nreally\";\n",
		"example.com/fwd.sieve":    "redirect \"other@example.net\";\n",
		"carol@example.com.sieve":  "discard;\n",
	}
	cases := []struct {
		rcpt     string
		code     int
		kind     string // outbox record kind expected, "" for none
		recordTo string
	}{
		{"bob@example.com", 250, store.KindVacation, "alice@example.org"},
		{"bob+vacation@example.com", 250, store.KindVacation, "alice@example.org"}, // copy mode
		{"broken@example.com", 250, "", ""},
		{"rej@example.com", 550, "", ""},
		{"fwd@example.com", 250, store.KindRedirect, "other@example.net"},
		{"carol@example.com", 250, "", ""},
		{"nobody@example.com", 250, "", ""},
	}
	for _, c := range cases {
		t.Run(c.rcpt, func(t *testing.T) {
			f := newFixture(t, scripts, nil)
			st := f.deliver(t, "alice@example.org", c.rcpt)
			if st[0].Code != c.code {
				t.Fatalf("status = %v, want %d", st[0], c.code)
			}
			recs := f.outbox(t)
			if c.kind == "" {
				if len(recs) != 0 {
					t.Fatalf("unexpected outbox records: %+v", recs)
				}
				return
			}
			if len(recs) != 1 || recs[0].Kind != c.kind || recs[0].To[0] != c.recordTo {
				t.Fatalf("outbox = %+v, want one %s to %s", recs, c.kind, c.recordTo)
			}
			if c.kind == store.KindRedirect && recs[0].From != "alice@example.org" {
				t.Errorf("redirect envelope sender = %q, want the original", recs[0].From)
			}
		})
	}
}

func TestRejectReasonIsOneLine(t *testing.T) {
	st := rejectStatus("no\r\nInjected: yes")
	if strings.ContainsAny(st.Message, "\r\n") || st.Code != 550 || st.Enhanced != [3]int{5, 7, 1} {
		t.Fatalf("status = %+v", st)
	}
}

// fakeDown answers per recipient from a table and records what it got.
type fakeDown struct {
	mu     sync.Mutex
	answer map[string]transport.Status
	got    []string
	msg    []byte
	calls  [][]byte
}

func (d *fakeDown) Forward(ctx context.Context, from string, to []transport.Recipient, received string, msg []byte) []transport.Status {
	d.mu.Lock()
	defer d.mu.Unlock()
	var rcpts []string
	for _, r := range to {
		rcpts = append(rcpts, r.Addr)
	}
	d.got = append(d.got, rcpts...)
	msg = append([]byte(received), msg...)
	d.msg = msg
	d.calls = append(d.calls, msg)
	var out []transport.Status
	for _, r := range rcpts {
		if s, ok := d.answer[r]; ok {
			out = append(out, s)
		} else {
			out = append(out, transport.StatusOK("ok"))
		}
	}
	return out
}

func TestDownstreamTempFailIsPerRecipient(t *testing.T) {
	down := &fakeDown{answer: map[string]transport.Status{
		"carol@example.com": {Code: 451, Enhanced: [3]int{4, 2, 0}, Message: "mailbox busy"},
	}}
	scripts := map[string]string{
		"example.com/bob.sieve": "require \"fileinto\";\nfileinto \"Work\";\n",
	}
	f := newFixture(t, scripts, down)
	f.svc.cfg.FileintoDetail = true
	st := f.deliver(t, "alice@example.org", "bob@example.com", "carol@example.com", "dave@example.com")
	want := []int{250, 451, 250}
	for i, w := range want {
		if st[i].Code != w {
			t.Errorf("recipient %d: status %v, want %d", i, st[i], w)
		}
	}
	if fmt.Sprint(down.got) != "[bob+Work@example.com carol@example.com dave@example.com]" {
		t.Errorf("downstream recipients = %v", down.got)
	}
	if !strings.HasPrefix(string(down.msg), "Received: ") {
		t.Errorf("forwarded message:\n%s", down.msg)
	}
}

func TestUserScriptPathIsConfined(t *testing.T) {
	f := newFixture(t, nil, nil)
	for _, u := range []string{"../etc@x", "a/b@example.com", ".hidden@example.com"} {
		for _, p := range DirSource(f.scripts).paths(u) {
			if !strings.HasPrefix(p, f.scripts+string(filepath.Separator)) || strings.Contains(p, "..") {
				t.Errorf("%q resolved outside the scripts dir: %s", u, p)
			}
		}
	}
	if got := UserKey("Bob+work@Example.com", "+"); got != "bob@example.com" {
		t.Errorf("userKey = %q", got)
	}
}

func TestEditedMessageGoesOnItsOwn(t *testing.T) {
	down := &fakeDown{}
	scripts := map[string]string{
		"example.com/bob.sieve": "require \"editheader\";\naddheader \"X-Seen\" \"yes\";\n",
	}
	f := newFixture(t, scripts, down)
	st := f.deliver(t, "alice@example.org", "bob@example.com", "carol@example.com", "dave@example.com")
	for i, s := range st {
		if s.Code != 250 {
			t.Errorf("recipient %d: %v", i, s)
		}
	}
	if len(down.calls) != 2 {
		t.Fatalf("downstream got %d transactions, want 2 (edited, as received)", len(down.calls))
	}
	if !strings.Contains(string(down.calls[0]), "X-Seen: yes") || strings.Contains(string(down.calls[1]), "X-Seen") {
		t.Errorf("edited message not kept to its recipient:\n%s\n---\n%s", down.calls[0], down.calls[1])
	}
	if fmt.Sprint(down.got) != "[bob@example.com carol@example.com dave@example.com]" {
		t.Errorf("downstream recipients = %v", down.got)
	}
}

func TestDuplicateTestRemembersAcrossMessages(t *testing.T) {
	scripts := map[string]string{
		"example.com/bob.sieve": "require [\"duplicate\", \"fileinto\"];\nif duplicate { fileinto \"Dups\"; }\n",
	}
	down := &fakeDown{}
	f := newFixture(t, scripts, down)
	f.svc.cfg.FileintoDetail = true
	f.deliver(t, "alice@example.org", "bob@example.com")
	f.deliver(t, "alice@example.org", "bob@example.com")
	if fmt.Sprint(down.got) != "[bob@example.com bob+Dups@example.com]" {
		t.Fatalf("deliveries = %v, want the second one filed as duplicate", down.got)
	}
	recs, err := f.db.ListDedup("bob@example.com", duplicateSender)
	if err != nil || len(recs) != 1 {
		t.Fatalf("duplicate records = %v, %v", recs, err)
	}
}

func TestRedirectLoopKeepsInstead(t *testing.T) {
	down := &fakeDown{}
	f := newFixture(t, map[string]string{"example.com/fwd.sieve": "redirect \"other@example.net\";\n"}, down)
	looped := "X-Sieve-Redirected-From: fwd@example.com\r\n" + testMsg
	st := f.deliverMsg(t, looped, "alice@example.org", "fwd@example.com")
	if st[0].Code != 250 {
		t.Fatalf("status = %v", st[0])
	}
	if recs := f.outbox(t); len(recs) != 0 {
		t.Fatalf("looping redirect was queued: %+v", recs)
	}
	if fmt.Sprint(down.got) != "[fwd@example.com]" {
		t.Fatalf("deliveries = %v, want the message kept", down.got)
	}
	// A first redirect carries the header that lets the next hop see the loop.
	f.deliver(t, "alice@example.org", "fwd@example.com")
	recs := f.outbox(t)
	if len(recs) != 1 || !strings.HasPrefix(string(recs[0].Message), "X-Sieve-Redirected-From: fwd@example.com") {
		t.Fatalf("redirect record = %+v", recs)
	}
}

func TestSeveralFoldersEachDelivered(t *testing.T) {
	down := &fakeDown{answer: map[string]transport.Status{
		"bob+B@example.com": {Code: 452, Enhanced: [3]int{4, 2, 2}, Message: "over quota"},
	}}
	scripts := map[string]string{
		"example.com/bob.sieve":   "require \"fileinto\";\nfileinto \"A\";\nfileinto \"B\";\nkeep;\n",
		"example.com/carol.sieve": "require \"fileinto\";\nfileinto \"A\";\nfileinto \"A\";\n",
	}
	f := newFixture(t, scripts, down)
	f.svc.cfg.FileintoDetail = true
	st := f.deliver(t, "alice@example.org", "bob@example.com", "carol@example.com")
	if st[0].Code != 452 || st[1].Code != 250 {
		t.Errorf("statuses = %v, want 452 for bob (one folder failed), 250 for carol", st)
	}
	want := "[bob+A@example.com bob+B@example.com bob@example.com carol+A@example.com]"
	if fmt.Sprint(down.got) != want {
		t.Errorf("deliveries = %v, want %s", down.got, want)
	}
}

func TestScriptChangesAreSeen(t *testing.T) {
	var logs strings.Builder
	f := newFixture(t, map[string]string{"example.com/bob.sieve": "discard;\n"}, &fakeDown{})
	f.svc.cfg.Compiler.log = slog.New(slog.NewTextHandler(&logs, nil))
	down := f.svc.cfg.Downstream.(*fakeDown)
	path := filepath.Join(f.scripts, "example.com", "bob.sieve")
	write := func(src string, mod time.Time) {
		t.Helper()
		if err := os.WriteFile(path, []byte(src), 0o644); err != nil {
			t.Fatal(err)
		}
		if err := os.Chtimes(path, mod, mod); err != nil {
			t.Fatal(err)
		}
	}
	f.deliver(t, "alice@example.org", "bob@example.com")
	if len(down.got) != 0 {
		t.Fatalf("discard script delivered: %v", down.got)
	}
	// A broken script: the message is kept, and the error logged once per change.
	write("discard\n", t0.Add(time.Minute))
	f.deliver(t, "alice@example.org", "bob@example.com")
	f.deliver(t, "alice@example.org", "bob@example.com")
	if len(down.got) != 2 {
		t.Fatalf("broken script: deliveries %v, want the message kept twice", down.got)
	}
	if n := strings.Count(logs.String(), "does not compile"); n != 1 {
		t.Errorf("compile error logged %d times, want once per change:\n%s", n, logs.String())
	}
	// Fixed again: the new script is used.
	write("discard;\n", t0.Add(2*time.Minute))
	f.deliver(t, "alice@example.org", "bob@example.com")
	if len(down.got) != 2 {
		t.Fatalf("fixed script not picked up: deliveries %v", down.got)
	}
}

func TestWithDetail(t *testing.T) {
	tests := []struct{ addr, box, want string }{
		{"bob@example.com", "Work", "bob+Work@example.com"},
		{"bob@example.com", "Lists.Go", "bob+Lists.Go@example.com"},
		{"bob@example.com", "Lists/Go Dev", "bob+Lists/Go_Dev@example.com"},
		{"bob@example.com", "a@b\r\n", "bob+a_b__@example.com"},
		{"bob@example.com", "Ünïcode", "bob+Ünïcode@example.com"},
		{"bob@example.com", "Lists <go>", `"bob+Lists_<go>"@example.com`},
		{"bob@example.com", "a..b", `"bob+a..b"@example.com`},
		{"bob@example.com", "x.", `"bob+x."@example.com`},
		{"bob@example.com", `q"b\s`, `"bob+q\"b\\s"@example.com`},
		{`"b ob"@example.com`, "Work", `"b ob+Work"@example.com`},
		{`"b\"ob"@example.com`, "W", `"b\"ob+W"@example.com`},
		{"local", "Work", "local"},
	}
	for _, tt := range tests {
		if got := withDetail(tt.addr, tt.box, "+"); got != tt.want {
			t.Errorf("withDetail(%q, %q) = %s, want %s", tt.addr, tt.box, got, tt.want)
		}
	}
}
