package notify

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/vacationd/vacationd/sieve"
)

// action runs a one-command script and returns its only action.
func action(t *testing.T, exts, src string) sieve.Action {
	t.Helper()
	s, err := sieve.Compile("t", []byte(src), &sieve.Options{Extensions: exts})
	if err != nil {
		t.Fatal(err)
	}
	res, err := s.Run(context.Background(), &sieve.Env{Message: sieve.ParseMessage([]byte("Subject: hi\r\n\r\nx\r\n"))})
	if err != nil || len(res.Actions) != 1 {
		t.Fatalf("run: %v %v", res.Actions, err)
	}
	return res.Actions[0]
}

func input(msg string, settings sieve.Settings) Input {
	return Input{
		Message:  sieve.ParseMessage([]byte(msg)),
		Envelope: sieve.Envelope{From: "sender@example.org", To: "user@example.com", OrigTo: "alias@example.com"},
		Settings: settings,
		Now:      time.Date(2026, 11, 30, 12, 0, 0, 0, time.UTC),
		Hostname: "mx.example.com",
		MessageID: func() string {
			return "<id@mx.example.com>"
		},
	}
}

func field(t *testing.T, m *Mail, name string) string {
	t.Helper()
	v := sieve.ParseMessage(m.Message).HeaderDecoded(name)
	if len(v) == 0 {
		return ""
	}
	return v[0]
}

func TestMailto(t *testing.T) {
	a := action(t, "", `require "enotify"; notify :importance "1" :from "me@example.com" "mailto:a@example.net%2Cb@example.net?cc=c@example.net&subject=New%20mail&x-tag=1&bcc=evil@example.net";`).(*sieve.Notify)
	m, why, err := Mailto(a, input("From: x@example.org\r\nSubject: Hello\r\n\r\nbody\r\n", nil))
	if err != nil || m == nil {
		t.Fatalf("Mailto: %v %q %v", m, why, err)
	}
	if !strings.Contains(string(m.Message), "\r\nX-Tag: 1\r\n") {
		t.Errorf("URI header field not named as Pigeonhole names it:\n%s", m.Message)
	}
	if m.From != "me@example.com" || strings.Join(m.To, " ") != "a@example.net b@example.net c@example.net" {
		t.Errorf("envelope %q -> %q", m.From, m.To)
	}
	for name, want := range map[string]string{
		"To": "a@example.net, b@example.net", "Cc": "c@example.net", "From": "me@example.com",
		"Subject": "New mail", "Auto-Submitted": `auto-notified; owner-email="user@example.com"`,
		"X-Priority": "1 (Highest)", "Importance": "High", "X-Tag": "1", "Bcc": "", "Precedence": "bulk",
	} {
		if got := field(t, m, name); got != want {
			t.Errorf("%s: %q, want %q", name, got, want)
		}
	}
}

func TestMailtoRules(t *testing.T) {
	a := action(t, "", `require "enotify"; notify "mailto:a@example.net";`).(*sieve.Notify)
	// A message sent automatically gets no notification.
	if m, why, _ := Mailto(a, input("Auto-Submitted: auto-replied\r\nSubject: x\r\n\r\n", nil)); m != nil || why == "" {
		t.Errorf("auto-submitted: %v %q", m, why)
	}
	if m, _, _ := Mailto(a, input("Auto-Submitted: no\r\nSubject: x\r\n\r\n", nil)); m == nil {
		t.Error("Auto-Submitted: no suppressed the notification")
	}
	// No :from: the postmaster sends, the subject names the message's.
	m, _, _ := Mailto(a, input("Subject: Hello\r\n\r\n", nil))
	if m.From != "postmaster@example.com" || field(t, m, "From") != "Postmaster <postmaster@example.com>" ||
		field(t, m, "Subject") != "Notification: Hello" || field(t, m, "Importance") != "Normal" {
		t.Errorf("default: from %q subject %q", m.From, field(t, m, "Subject"))
	}
	// sieve_notify_mailto_envelope_from chooses the envelope sender.
	for set, want := range map[string]string{"sender": "sender@example.org", "recipient": "user@example.com",
		"orig_recipient": "alias@example.com", "<bounce@example.com>": "bounce@example.com"} {
		m, _, _ := Mailto(a, input("Subject: x\r\n\r\n", sieve.Settings{"sieve_notify_mailto_envelope_from": set}))
		if m.From != want {
			t.Errorf("envelope_from %s: %q, want %q", set, m.From, want)
		}
	}
	// A message from the null sender is notified from the null sender.
	in := input("Subject: x\r\n\r\n", nil)
	in.Envelope.From = ""
	if m, _, _ := Mailto(a, in); m.From != "" {
		t.Errorf("null sender: notified from %q", m.From)
	}
}

func TestReport(t *testing.T) {
	a := action(t, "+vnd.dovecot.report", `require "vnd.dovecot.report"; report :headers_only "abuse" "Spam!" "abuse@example.net";`).(*sieve.Report)
	m, err := Report(a, input("From: x@example.org\r\nSubject: Buy\r\n\r\nSECRET BODY\r\n", sieve.Settings{"sieve_report_from": "recipient"}))
	if err != nil {
		t.Fatal(err)
	}
	body := string(m.Message)
	if m.From != "" || m.To[0] != "abuse@example.net" || field(t, m, "From") != "<user@example.com>" ||
		field(t, m, "Subject") != "Report: Buy" || field(t, m, "Auto-Submitted") != "auto-generated (report)" {
		t.Errorf("envelope %q %q, header From %q", m.From, m.To, field(t, m, "From"))
	}
	for _, want := range []string{"Feedback-Type: abuse", "Original-Mail-From: <sender@example.org>",
		"Original-Rcpt-To: <alias@example.com>", "Dovecot-Reporting-User: <alias@example.com>", "text/rfc822-headers", "Spam!"} {
		if !strings.Contains(body, want) {
			t.Errorf("report lacks %q", want)
		}
	}
	if strings.Contains(body, "SECRET BODY") {
		t.Error(":headers_only report holds the body")
	}
}
