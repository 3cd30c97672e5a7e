package delivery

import (
	"context"
	"io"
	"log/slog"
	"net/mail"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/vacationd/vacationd/sieve"
	"github.com/vacationd/vacationd/store"
	"github.com/vacationd/vacationd/transport"
	"github.com/vacationd/vacationd/vacation"
)

// fuzzUserScript exercises every action a delivery carries out, with
// values read from the message.
const fuzzUserScript = `require ["vacation", "vacation-seconds", "variables", "fileinto", "reject", "editheader", "duplicate", "envelope", "subaddress"];
if header :matches "subject" "*" { set "s" "${1}"; }
if envelope :detail "to" "*" { set "box" "${1}"; }
if header :matches "x-folder" "*" { set "box" "${1}"; }
if header :contains "x-action" "reject" { reject "no: ${s}"; stop; }
if header :contains "x-action" "redirect" { redirect "carol@example.net"; }
if duplicate :header "message-id" { discard; stop; }
addheader "X-Seen" "${s}";
fileinto "${box}";
vacation :seconds 60 :subject "Re: ${s}" "away";
`

// checkingDownstream accepts everything and checks what it is given.
type checkingDownstream struct {
	t    atomic.Pointer[testing.T]
	rcpt atomic.Value // string: the fuzzed recipient
}

func (d *checkingDownstream) Forward(ctx context.Context, from string, to []transport.Recipient, received string, msg []byte) []transport.Status {
	t := d.t.Load()
	if !strings.HasPrefix(received, "Received: ") || !strings.HasSuffix(received, "\r\n") {
		t.Errorf("Received field %q", received)
	}
	if strings.Count(received, "\r\n") != 3 || strings.Count(received, "\n") != 3 || strings.Count(received, "\r") != 3 || strings.Contains(strings.TrimSuffix(received, "\r\n"), "\r\n ") {
		t.Errorf("Received field is not one field folded as written: %q", received)
	}
	if !utf8.ValidString(received) || strings.ContainsFunc(received, func(r rune) bool {
		return r == 0x7f || r < 0x20 && r != '\r' && r != '\n' && r != '\t'
	}) {
		t.Errorf("Received field with a control character or invalid UTF-8: %q", received)
	}
	if _, err := mail.ParseAddress("<" + d.rcpt.Load().(string) + ">"); err == nil {
		// What the Forwarder sends as RCPT TO:<addr> must be one path when
		// the recipients were.
		for _, r := range to {
			if _, err := mail.ParseAddress("<" + r.Addr + ">"); err != nil {
				t.Errorf("downstream recipient %q is no address: %v", r.Addr, err)
			}
		}
	}
	st := make([]transport.Status, len(to))
	for i := range st {
		st[i] = transport.StatusOK("ok")
	}
	return st
}

// FuzzDeliver runs a whole delivery — scripts, vacation, redirect, the
// store, the downstream — on a message and envelope from the internet. It
// must not panic, answer once per recipient, and find a user's script only
// inside the scripts directory.
func FuzzDeliver(f *testing.F) {
	f.Add([]byte(testMsg), "alice@example.org", "bob@example.com", "rfc822;bob@example.com", "client.example.org")
	f.Add([]byte(testMsg), "", "bob+Lists.Go@example.com", "", "")
	f.Add([]byte("Subject: x\r\nX-Action: reject\r\n\r\n"), "<>", "Bob@Example.com", "", "h")
	f.Add([]byte("Subject: x\r\nX-Folder: Lists.Go\r\n\r\n"), "a@b", "bob@example.com", "", "h")
	f.Add([]byte("Subject: x\r\nX-Action: redirect\r\nMessage-ID: <1@x>\r\n\r\n"), "a@b", "bob@example.com", "", "h")
	f.Add([]byte("From: a@b\r\n\r\n"), "a@b", "../example.com/bob@example.com", "", "h")

	if _, err := sieve.Compile("bob", []byte(fuzzUserScript), &sieve.Options{Extensions: "+editheader +vacation-seconds"}); err != nil {
		f.Fatal(err)
	}
	dir := f.TempDir()
	sdir := filepath.Join(dir, "scripts")
	if err := os.MkdirAll(filepath.Join(sdir, "example.com"), 0o755); err != nil {
		f.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(sdir, "example.com", "bob.sieve"), []byte(fuzzUserScript), 0o644); err != nil {
		f.Fatal(err)
	}
	db, err := store.Open(filepath.Join(dir, "vacationd.db"), store.Options{NoSync: true})
	if err != nil {
		f.Fatal(err)
	}
	f.Cleanup(func() { db.Close() })
	var clock atomic.Int64
	now := func() time.Time { return t0.Add(time.Duration(clock.Add(1)) * time.Second) }
	down := &checkingDownstream{}
	svc, err := New(Config{
		Source: DirSource(sdir), RecipientDelimiter: "+", Store: db, Compiler: NewCompiler(sieve.Options{Extensions: "+editheader +vacation-seconds", Limits: sieve.Limits{Steps: 10000}}, nil),
		Responder:  &vacation.Responder{Settings: vacation.DefaultSettings(), Dedup: StoreDedup{DB: db}, Now: now, Hostname: "mx.example.com"},
		Downstream: down, FileintoDetail: true, Hostname: "mx.example.com",
		Logger: slog.New(slog.NewTextHandler(io.Discard, nil)), Now: now,
	})
	if err != nil {
		f.Fatal(err)
	}
	f.Fuzz(func(t *testing.T, raw []byte, from, rcpt, orcpt, helo string) {
		down.t.Store(t)
		down.rcpt.Store(rcpt)
		for _, p := range DirSource(sdir).paths(UserKey(rcpt, "+")) {
			if rel, err := filepath.Rel(sdir, p); err != nil || rel == ".." || strings.HasPrefix(rel, "../") || strings.Contains(rel, "/../") {
				t.Fatalf("recipient %q: script path %q outside %s", rcpt, p, sdir)
			}
		}
		env := &transport.Envelope{From: from, ClientHost: helo,
			Recipients: []transport.Recipient{{Addr: rcpt, ORCPT: orcpt}, {Addr: "bob@example.com"}}}
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		if st := svc.Deliver(ctx, env, raw); len(st) != len(env.Recipients) {
			t.Fatalf("%d statuses for %d recipients", len(st), len(env.Recipients))
		}
	})
}
