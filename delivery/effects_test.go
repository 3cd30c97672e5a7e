package delivery

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/vacationd/vacationd/programs"
	"github.com/vacationd/vacationd/sieve"
	"github.com/vacationd/vacationd/store"
)

// TestNotificationQueuedWithReply: a notification and a vacation reply of
// one delivery are committed together and relayed from the outbox.
func TestNotificationQueuedWithReply(t *testing.T) {
	script := "require [\"enotify\", \"vacation\"];\n" +
		"notify :importance \"1\" \"mailto:bob@mobile.example.net?subject=New%20mail\";\n" +
		"vacation :days 3 :subject \"Away\" \"I am away\";\n"
	f := newFixture(t, map[string]string{"example.com/bob.sieve": script}, nil)
	if st := f.deliver(t, "alice@example.org", "bob@example.com"); st[0].Code != 250 {
		t.Fatalf("status %v", st)
	}
	recs := f.outbox(t)
	kinds := map[string]store.OutboxRecord{}
	for _, r := range recs {
		kinds[r.Kind] = r
	}
	n, ok := kinds[store.KindNotify]
	if len(recs) != 2 || !ok || kinds[store.KindVacation].Kind == "" {
		t.Fatalf("outbox %v, want a notification and a reply", recs)
	}
	msg := string(n.Message)
	if n.To[0] != "bob@mobile.example.net" || n.User != "bob@example.com" ||
		!strings.Contains(msg, "Subject: New mail\r\n") || !strings.Contains(msg, `Auto-Submitted: auto-notified; owner-email="bob@example.com"`) ||
		!strings.Contains(msg, "Importance: High") {
		t.Errorf("notification %q -> %v:\n%s", n.From, n.To, msg)
	}
	// An automatic message gets no notification (and no reply).
	f2 := newFixture(t, map[string]string{"example.com/bob.sieve": script}, nil)
	auto := "Auto-Submitted: auto-replied\r\n" + testMsg
	f2.deliverMsg(t, auto, "alice@example.org", "bob@example.com")
	if recs := f2.outbox(t); len(recs) != 0 {
		t.Errorf("automatic message: outbox %v", recs)
	}
}

// TestReportQueued: vnd.dovecot.report (when enabled) queues the report.
func TestReportQueued(t *testing.T) {
	f := newFixture(t, map[string]string{"example.com/bob.sieve": "require \"vnd.dovecot.report\";\nreport \"abuse\" \"spam\" \"abuse@example.net\";\n"}, nil)
	f.svc.pipe.Compiler = NewCompiler(sieve.Options{Extensions: "+vnd.dovecot.report"}, nil)
	f.deliver(t, "alice@example.org", "bob@example.com")
	recs := f.outbox(t)
	if len(recs) != 1 || recs[0].Kind != store.KindReport || recs[0].To[0] != "abuse@example.net" || recs[0].From != "" {
		t.Fatalf("outbox %v, want one report", recs)
	}
	if !strings.Contains(string(recs[0].Message), "Feedback-Type: abuse") {
		t.Errorf("report:\n%s", recs[0].Message)
	}
}

// TestRedirectDeduplicated: a message delivered again (an LMTP retry) is
// not redirected twice, as Pigeonhole keeps a record per Message-ID,
// recipient and target; another message, or one without a Message-ID, is.
func TestRedirectDeduplicated(t *testing.T) {
	f := newFixture(t, map[string]string{"example.com/bob.sieve": "redirect \"carol@example.net\";\n"}, nil)
	count := func() int {
		n := 0
		for _, r := range f.outbox(t) {
			if r.Kind == store.KindRedirect {
				n++
			}
		}
		return n
	}
	f.deliver(t, "alice@example.org", "bob@example.com")
	if st := f.deliver(t, "alice@example.org", "bob@example.com"); st[0].Code != 250 {
		t.Fatalf("second delivery: %v", st)
	}
	if n := count(); n != 1 {
		t.Fatalf("same message twice: %d redirects queued, want 1", n)
	}
	f.deliverMsg(t, strings.Replace(testMsg, "<m1@example.org>", "<m2@example.org>", 1), "alice@example.org", "bob@example.com")
	if n := count(); n != 2 {
		t.Errorf("another message: %d redirects, want 2", n)
	}
	noID := strings.Replace(testMsg, "Message-ID: <m1@example.org>\r\n", "", 1)
	f.deliverMsg(t, noID, "alice@example.org", "bob@example.com")
	f.deliverMsg(t, noID, "alice@example.org", "bob@example.com")
	if n := count(); n != 4 {
		t.Errorf("messages without Message-ID: %d redirects, want 4", n)
	}
}

// TestNotificationOddAddress: a line break in a quoted local part of a
// mailto: URI reaches neither the envelope nor a header line; the delivery
// succeeds with both notifications queued.
func TestNotificationOddAddress(t *testing.T) {
	script := "require \"enotify\";\nnotify \"mailto:%22a%0D%0Ab%22@example.net\";\nnotify \"mailto:ok@example.net\";\n"
	f := newFixture(t, map[string]string{"example.com/bob.sieve": script}, nil)
	if st := f.deliver(t, "alice@example.org", "bob@example.com"); st[0].Code != 250 {
		t.Fatalf("status %v", st)
	}
	recs := f.outbox(t)
	if len(recs) != 2 {
		t.Fatalf("outbox %d records, want 2", len(recs))
	}
	for _, r := range recs {
		if strings.ContainsAny(strings.Join(r.To, ""), "\r\n") {
			t.Errorf("envelope recipient %q", r.To)
		}
		for _, line := range strings.Split(string(r.Message), "\r\n") {
			if strings.ContainsAny(line, "\r\n") {
				t.Errorf("bare line break in %q", line)
			}
		}
	}
}

// TestPipe: with vnd.dovecot.pipe enabled, the message is piped to the
// program from the bin dir and not kept; a program that fails keeps the
// message, unless :try.
func TestPipe(t *testing.T) {
	bin := t.TempDir()
	out := filepath.Join(t.TempDir(), "piped")
	for name, body := range map[string]string{"save": "cat > " + out, "fail": "cat >/dev/null; exit 1"} {
		if err := os.WriteFile(filepath.Join(bin, name), []byte("#!/bin/sh\n"+body+"\n"), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	for _, tc := range []struct {
		script string
		kept   bool
	}{
		{`pipe "save";`, false},
		{`pipe "fail";`, true},
		{`pipe :try "fail";`, false},
		{`pipe "missing";`, true},
	} {
		down := &fakeDown{}
		f := newFixture(t, map[string]string{"example.com/bob.sieve": "require \"vnd.dovecot.pipe\";\n" + tc.script + "\n"}, down)
		f.svc.pipe.Compiler = NewCompiler(sieve.Options{Extensions: "+vnd.dovecot.pipe"}, nil)
		f.svc.pipe.Settings = sieve.Settings{"sieve_pipe_bin_dir": bin}
		f.svc.pipe.Programs = &programs.Runner{}
		os.Remove(out)
		if st := f.deliver(t, "alice@example.org", "bob@example.com"); st[0].Code != 250 {
			t.Fatalf("%s: status %v", tc.script, st)
		}
		if kept := len(down.got) > 0; kept != tc.kept {
			t.Errorf("%s: kept %v, want %v", tc.script, kept, tc.kept)
		}
		if tc.script == `pipe "save";` {
			if b, err := os.ReadFile(out); err != nil || !strings.Contains(string(b), "Subject: Meeting") {
				t.Errorf("the program got %q (%v)", b, err)
			}
		}
	}
}
