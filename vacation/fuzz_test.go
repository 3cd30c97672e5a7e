package vacation

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/vacationd/vacationd/sieve"
)

// fuzzScripts read the incoming message through every test that looks at
// untrusted text (header, address, body, date, exists, matches variables,
// editheader) and feed what they read into vacation's :subject, :from and
// :reason, plain and :mime.
var fuzzScripts = []string{
	`require ["vacation", "variables", "body", "date", "relational", "comparator-i;ascii-numeric", "editheader", "encoded-character"];
if header :matches "subject" "*" { set "s" "${1}"; }
if address :all :matches "from" "*" { set "f" "${1}"; }
if address :domain :contains ["to", "cc", "sender"] "example" { set "d" "1"; }
if address :localpart :is "reply-to" "bob" { set "l" "1"; }
if date :value "ge" :zone "+0100" "date" "date" "2000-01-01" { set "y" "1"; }
if date :matches :originalzone "date" "std11" "*" { set "z" "${1}"; }
if currentdate :matches "iso8601" "*" { set "n" "${1}"; }
if body :raw :contains "x" { set "b" "1"; }
if body :content "text" :contains "away" { set "c" "1"; }
if body :text :matches "*" { set "t" "${1}"; }
if exists ["list-id", "auto-submitted"] { set "e" "1"; }
if header :count "ge" :comparator "i;ascii-numeric" "received" "2" { addheader "X-Seen" "${s}"; }
deleteheader :matches "x-spam*" "*";
vacation :days 1 :subject "Re: ${s}" :from "${f}" :addresses ["${d}@example.com", "bob@example.com"] "${t}${z}${n}";`,
	`require ["vacation", "variables", "mime", "foreverypart", "extracttext"];
foreverypart {
  if header :mime :type :is "content-type" "text" {
    extracttext :first 100 "x";
  }
  if header :mime :param "filename" :contains "content-disposition" "." { set "a" "1"; }
}
if header :mime :anychild :subtype "content-type" "html" { set "h" "1"; }
vacation :mime :handle "h" :subject "${subject}" "Content-Type: text/plain; charset=utf-8

${x}";`,
}

// FuzzMessage feeds a message from the internet through the whole path a
// delivery takes: parsing, a run of scripts that read it every way Sieve
// can, and deciding and composing the vacation reply. None of it may
// panic, and no text from the message may add a field to a composed reply.
func FuzzMessage(f *testing.F) {
	files, _ := filepath.Glob("../testdata/vacation/*.case")
	for _, file := range files {
		raw, err := os.ReadFile(file)
		if err != nil {
			f.Fatal(err)
		}
		if _, msg, ok := bytes.Cut(raw, []byte("\n---\n")); ok {
			f.Add(msg, "alice@example.org")
		}
	}
	f.Add([]byte("From: a@example.org\r\nTo: bob@example.com\r\nSubject: =?utf-8?q?caf=C3=A9?=\r\n"+
		"Date: Mon, 01 Jan 2024 10:00:00 +0000\r\nContent-Type: multipart/mixed; boundary=b\r\n\r\n"+
		"--b\r\nContent-Type: text/html\r\n\r\n<p>away</p>\r\n--b\r\nContent-Type: message/rfc822\r\n\r\n"+
		"Subject: inner\r\n\r\ninner body\r\n--b--\r\n"), "<a@example.org>")
	f.Add([]byte("\r\n"), "")

	var scripts []*sieve.Script
	for i, src := range fuzzScripts {
		s, err := sieve.Compile("fuzz", []byte(src), &sieve.Options{Extensions: "+editheader +mime +foreverypart +extracttext", Limits: sieve.Limits{Steps: 10000}})
		if err != nil {
			f.Fatalf("script %d: %v", i, err)
		}
		scripts = append(scripts, s)
	}
	now := func() time.Time { return time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC) }
	settings, err := ParseSettings(map[string]string{"sieve_vacation_dont_check_recipient": "yes"})
	if err != nil {
		f.Fatal(err)
	}
	f.Fuzz(func(t *testing.T, raw []byte, from string) {
		msg := sieve.ParseMessage(raw)
		for _, s := range scripts {
			ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
			env := &sieve.Env{Message: msg, Now: now,
				Envelope: sieve.Envelope{From: from, To: "bob@example.com"},
				Settings: sieve.Settings{"sieve_max_cpu_time": "1s"}}
			res, _ := s.Run(ctx, env)
			if res == nil {
				cancel()
				continue
			}
			for _, a := range res.Actions {
				v, ok := a.(*sieve.Vacation)
				if !ok {
					continue
				}
				r := &Responder{Settings: settings, Dedup: &MemoryDedup{}, Now: now,
					MessageID: func() string { return "<reply-1@vacationd.test>" }}
				in := &Input{User: "bob", Action: v, Message: msg, Edited: res.Message,
					Envelope: Envelope{From: from, To: "bob@example.com"}}
				_, rep, err := r.Respond(ctx, in)
				if err != nil || rep == nil {
					continue
				}
				checkReplyHeader(t, rep.Message)
			}
			cancel()
		}
	})
}

// replyFields are the fields a reply has (with the :mime reason of
// fuzzScripts).
var replyFields = map[string]bool{
	"X-Auto-Response-Suppress": true, "To": true, "Subject": true, "Precedence": true, "Message-ID": true,
	"MIME-Version": true, "From": true, "Date": true, "Content-Type": true, "Auto-Submitted": true,
	"References": true, "In-Reply-To": true, "Content-Transfer-Encoding": true,
}

// checkReplyHeader fails when the reply's header section has a line that
// is neither one of replyFields (once) nor a continuation, or a bare CR
// or LF.
func checkReplyHeader(t *testing.T, m []byte) {
	t.Helper()
	head, _, ok := bytes.Cut(m, []byte("\r\n\r\n"))
	if !ok {
		t.Fatalf("reply has no end of header:\n%q", m)
	}
	seen := map[string]bool{}
	for _, line := range bytes.Split(head, []byte("\r\n")) {
		if bytes.ContainsAny(line, "\r\n") {
			t.Fatalf("reply header line with a bare CR or LF: %q", line)
		}
		if len(line) > 0 && (line[0] == ' ' || line[0] == '\t') {
			continue
		}
		name, _, ok := bytes.Cut(line, []byte(":"))
		if !ok || !replyFields[string(name)] || seen[string(name)] {
			t.Fatalf("reply header line is none of the reply's fields, or one again: %q\n%s", line, m)
		}
		seen[string(name)] = true
	}
}
