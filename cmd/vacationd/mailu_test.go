package main

import (
	"bytes"
	"context"
	"io"
	"log/slog"
	"net"
	"strings"
	"sync"
	"testing"

	"github.com/emersion/go-message"
	"github.com/vacationd/vacationd/delivery"
	"github.com/vacationd/vacationd/internal/mailutest"
	"github.com/vacationd/vacationd/sieve"
	"github.com/vacationd/vacationd/store"
	"github.com/vacationd/vacationd/transport"
)

const mailuCaptures = "../../../shared/mailu/admin"

var mailuEnviron = []string{
	"ADMIN_ADDRESS=admin.mailu", "FRONT_ADDRESS=front.mailu", "SMTP_ADDRESS=smtp.mailu",
	"HOSTNAMES=mx.example.test,mail.example.test", "DOMAIN=example.test", "POSTMASTER=pm",
	"RECIPIENT_DELIMITER=+-", "SUBNET=192.168.203.0/24", "SUBNET6=fd00:1::/64", "LOG_LEVEL=INFO",
	"PROXY_PROTOCOL=mail",
}

func TestMailuProfileFromEnvironment(t *testing.T) {
	c, err := loadConfig([]string{"--mailu"}, mailuEnviron, io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	o := c.opts
	for _, f := range []struct{ name, got, want string }{
		{"lmtp", o.lmtp, ":2525"},
		{"lmtp-allow", o.lmtpAllow, "192.168.203.0/24,fd00:1::/64"},
		{"script-source", o.scriptSource, "mailu:http://admin.mailu:8080"},
		{"deliver-to", o.deliverTo, "lmtp:front.mailu:2525"},
		{"relay", o.relay, "smtp.mailu:25"},
		{"relay-tls", o.relayTLS, "none"},
		{"relay-proxy", o.relayProxy, "off"},
		{"hostname", o.hostname, "mx.example.test"},
		{"recipient-delimiter", o.recipientDelim, "+-"},
		{"extensions", o.extensions, "+spamtest +spamtestplus +editheader"},
		{"http", o.http, "0.0.0.0:8025"},
		{"data", o.data, "/data"},
		{"log-level", o.logLevel, "info"},
		{"submission", o.submission, ":10025"},
		{"submission-allow", o.submissionAllow, "192.168.203.0/24,fd00:1::/64,127.0.0.0/8,::1/128"},
	} {
		if f.got != f.want {
			t.Errorf("--%s = %q, want %q", f.name, f.got, f.want)
		}
	}
	settings := strings.Join(o.settings, "\n")
	for _, want := range []string{"sieve_spamtest_max_value=15", "postmaster_address=pm@example.test", "hostname=mx.example.test", "recipient_delimiter=+-", "sieve_vacation_send_from_recipient=yes"} {
		if !strings.Contains(settings, want) {
			t.Errorf("settings lack %s:\n%s", want, settings)
		}
	}
	if src := c.source("relay"); src != "mailu profile (SMTP_ADDRESS)" {
		t.Errorf("source of relay: %q", src)
	}

	// Overrides: the ordinary flags, VACATIOND_* and --mailu-admin win.
	c, err = loadConfig([]string{"--mailu", "--relay", "smtp.mailu:2526", "--relay-proxy", "v2", "--mailu-admin", "http://10.0.0.9:8080", "-o", "sieve_spamtest_max_value=10"},
		append(mailuEnviron, "VACATIOND_DATA=/srv/vd"), io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	o = c.opts
	if o.relay != "smtp.mailu:2526" || o.relayProxy != "v2" || o.scriptSource != "mailu:http://10.0.0.9:8080" || o.data != "/srv/vd" {
		t.Errorf("overrides lost: relay %q proxy %q source %q data %q", o.relay, o.relayProxy, o.scriptSource, o.data)
	}
	if last := o.settings[len(o.settings)-1]; last != "sieve_spamtest_max_value=10" {
		t.Errorf("operator's -o is not last (so does not win): %q", last)
	}

	// Mailu's base-image defaults when mailu.env leaves them out.
	c, err = loadConfig([]string{"--mailu"}, []string{"HOSTNAMES=mail.example.org", "DOMAIN=example.org"}, io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	if o := c.opts; o.scriptSource != "mailu:http://admin:8080" || o.deliverTo != "lmtp:front:2525" || o.relay != "smtp:25" ||
		o.lmtpAllow != "192.168.203.0/24" || o.logLevel != "warn" || o.recipientDelim != "" {
		t.Errorf("defaults: %+v", o.mailuOptions)
	}

	// No DOMAIN and a host name without a dot: no postmaster_address
	// ("postmaster@"), so each recipient's domain's postmaster is used.
	c, err = loadConfig([]string{"--mailu"}, []string{"HOSTNAMES=mail"}, io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	for _, s := range c.opts.settings {
		if strings.HasPrefix(s, "postmaster_address=") {
			t.Errorf("without a domain the profile sets %q", s)
		}
	}

	for _, env := range [][]string{{"SUBNET=nonsense"}, {"LOG_LEVEL=LOUD"}, {"PROXY_PROTOCOL=25,smtp"}} {
		if _, err := loadConfig([]string{"--mailu"}, env, io.Discard); err == nil || !strings.Contains(err.Error(), strings.Split(env[0], "=")[0]) {
			t.Errorf("%v: error %v, want one naming the variable", env, err)
		}
	}
}

// recordingDown is a downstream that records what it is given.
type recordingDown struct {
	mu   sync.Mutex
	got  []forwarded
	fail bool
}

type forwarded struct {
	from, received string
	to             []string
	msg            []byte
}

func (d *recordingDown) Forward(_ context.Context, from string, to []transport.Recipient, received string, msg []byte) []transport.Status {
	d.mu.Lock()
	defer d.mu.Unlock()
	f := forwarded{from: from, received: received, msg: append([]byte(nil), msg...)}
	st := make([]transport.Status, len(to))
	for i, r := range to {
		f.to = append(f.to, r.Addr)
		st[i] = transport.StatusOK("2.0.0 Saved")
	}
	d.got = append(d.got, f)
	return st
}

func (d *recordingDown) take() []forwarded {
	d.mu.Lock()
	defer d.mu.Unlock()
	g := d.got
	d.got = nil
	return g
}

type mailuFixture struct {
	admin *mailutest.Admin
	db    *store.DB
	down  *recordingDown
	svc   *delivery.Service
}

func newMailuFixture(t *testing.T) *mailuFixture {
	t.Helper()
	admin := mailutest.Start(t, mailuCaptures)
	c, err := loadConfig([]string{"--mailu", "--mailu-admin", admin.URL()},
		append(mailuEnviron, "RECIPIENT_DELIMITER=+"), io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	f := &mailuFixture{admin: admin, db: openTestDB(t), down: &recordingDown{}}
	log := slog.New(slog.DiscardHandler)
	f.svc, err = newDeliveryService(c.opts, f.db, f.down, delivery.NewMetrics(nil), log)
	if err != nil {
		t.Fatal(err)
	}
	return f
}

// postfixMessage is a message as Postfix's LMTP client hands it over.
func postfixMessage(from, to, subject, extra string) []byte {
	return []byte("Received: from client.internet.example (unknown [127.0.0.1])\r\n" +
		"\tby mx.example.test (Postfix) with ESMTP id 9AEB59C4BBB\r\n" +
		"\tfor <" + to + ">; Mon, 30 Nov 2026 10:40:35 +0000 (UTC)\r\n" +
		"Date: Mon, 30 Nov 2026 10:40:35 +0000\r\nFrom: " + from + "\r\nTo: " + to + "\r\nSubject: " + subject + "\r\n" +
		"Message-ID: <" + strings.ReplaceAll(subject, " ", ".") + "@internet.example>\r\n" + extra + "\r\nhello\r\n")
}

func (f *mailuFixture) deliver(t *testing.T, from, to string, raw []byte) transport.Status {
	t.Helper()
	env := &transport.Envelope{From: from, Recipients: []transport.Recipient{{Addr: to}},
		ClientAddr: &net.TCPAddr{IP: net.IPv4(127, 0, 0, 1), Port: 40000}, ClientHost: "mx.example.test"}
	return f.svc.Deliver(context.Background(), env, raw)[0]
}

// replies returns the vacation replies queued since the last call.
func (f *mailuFixture) replies(t *testing.T) []store.OutboxRecord {
	t.Helper()
	recs, err := f.db.ListOutbox()
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range recs {
		if err := f.db.Done(r.ID); err != nil {
			t.Fatal(err)
		}
	}
	return recs
}

// decodeBody returns a reply's body with its transfer encoding undone.
func decodeBody(t *testing.T, raw []byte) []byte {
	t.Helper()
	e, err := message.Read(bytes.NewReader(raw))
	if err != nil {
		t.Fatal(err)
	}
	b, err := io.ReadAll(e.Body)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func header(t *testing.T, rec store.OutboxRecord, name string) string {
	t.Helper()
	v := sieve.ParseMessage(rec.Message).HeaderDecoded(name)
	if len(v) == 0 {
		t.Fatalf("reply has no %s:\n%s", name, rec.Message)
	}
	return strings.TrimSpace(sieve.Unfold(v[0]))
}

// TestMailuFiveUsers delivers to the five captured users through the
// Mailu profile's service and a fake admin serving the captures, and
// checks each reply against what Pigeonhole sends with Mailu's settings
// (shared/mailu/README.md, mailchain.md and sieve-test; the difftest cases
// testdata/difftest/mailu-* check the same scripts against sieve-test).
func TestMailuFiveUsers(t *testing.T) {
	f := newMailuFixture(t)
	cases := []struct {
		to, from, subject, extra string
		// want: the reply's Subject, "" for no reply
		want, wantFrom, body string
		mailFrom             string
	}{
		{to: "alice@example.test", from: "henry@internet.example", subject: "hello alice", extra: "X-Spam-Level: ***\r\n",
			want: `Out of office ("OOO") client.internet.example (unknown [127.0.0.1])`, wantFrom: `"Alice \"Ali\" $Doe \\ test" <alice@example.test>`,
			body: "I am away until Monday.\r\nLine two with \"quotes\", a backslash \\ and mx.example.test (Postfix) with ESMTP id 9AEB59C4BBB and ${hex:41}."},
		{to: "bob@example.test", from: "henry@internet.example", subject: "mailchain a", want: "Auto: mailchain a", wantFrom: "<bob@example.test>", body: "Back soon"},
		{to: "carol@example.test", from: "henry@internet.example", subject: "hi carol", want: "None", body: "Carol is away"},
		{to: "dave@example.test", from: "henry@internet.example", subject: "hi dave"},
		{to: "admin@example.test", from: "henry@internet.example", subject: "hallo admin", want: "Abwesend – zurück am Montag", body: "Grüße, ich bin weg. 日本語"},
		// The detail stays in the reply's MAIL FROM (sieve_vacation_send_from_recipient).
		{to: "bob+lists@example.test", from: "ivy@internet.example", subject: "to bob plus lists", want: "Auto: to bob plus lists", mailFrom: "bob+lists@example.test"},
		// 12 stars of 15 is 80 %, not more: a reply; 13 stars: Junk, no reply.
		{to: "alice@example.test", from: "ham@internet.example", subject: "twelve", extra: "X-Spam-Level: ************\r\n", want: `Out of office ("OOO") client.internet.example (unknown [127.0.0.1])`},
		{to: "alice@example.test", from: "spammer@internet.example", subject: "thirteen", extra: "X-Spam-Level: *************\r\n"},
		// No-reply senders (the script's own test), lists, auto-submitted.
		{to: "bob@example.test", from: "no-reply@internet.example", subject: "newsletter"},
		{to: "bob@example.test", from: "henry2@internet.example", subject: "via reply-to", extra: "Reply-To: noreply@internet.example\r\n"},
		{to: "bob@example.test", from: "owner@lists.example", subject: "list", extra: "List-Id: <l.lists.example>\r\n"},
		{to: "bob@example.test", from: "robot@internet.example", subject: "auto", extra: "Auto-Submitted: auto-generated\r\n"},
		// One reply per sender per day.
		{to: "bob@example.test", from: "henry@internet.example", subject: "again"},
		// An unknown user (404): delivered, no reply.
		{to: "zed@example.test", from: "henry@internet.example", subject: "hi zed"},
	}
	for _, c := range cases {
		raw := postfixMessage(c.from, c.to, c.subject, c.extra)
		if st := f.deliver(t, c.from, c.to, raw); st.Code != 250 {
			t.Errorf("%s from %s: %s, want 250", c.to, c.from, st)
			continue
		}
		// Forwarded byte for byte, without a Received field of ours.
		fw := f.down.take()
		if len(fw) != 1 || fw[0].received != "" || string(fw[0].msg) != string(raw) || fw[0].to[0] != c.to || fw[0].from != c.from {
			t.Errorf("%s from %s: forwarded %+v; want the message as received, once, with no Received field", c.to, c.from, fw)
		}
		recs := f.replies(t)
		if c.want == "" {
			if len(recs) != 0 {
				t.Errorf("%s from %s (%s): reply %q, want none", c.to, c.from, c.subject, recs[0].Message)
			}
			continue
		}
		if len(recs) != 1 {
			t.Errorf("%s from %s: %d replies, want 1", c.to, c.from, len(recs))
			continue
		}
		r := recs[0]
		mailFrom := c.mailFrom
		if mailFrom == "" {
			mailFrom = c.to
		}
		if r.From != mailFrom || len(r.To) != 1 || r.To[0] != c.from || r.Kind != store.KindVacation {
			t.Errorf("%s: envelope %s -> %v (%s), want %s -> %s", c.to, r.From, r.To, r.Kind, mailFrom, c.from)
		}
		if got := header(t, r, "Subject"); got != c.want {
			t.Errorf("%s: Subject %q, want %q", c.to, got, c.want)
		}
		if c.wantFrom != "" {
			if got := header(t, r, "From"); got != c.wantFrom {
				t.Errorf("%s: From %q, want %q", c.to, got, c.wantFrom)
			}
		}
		if got := header(t, r, "Auto-Submitted"); got != "auto-replied (vacation)" {
			t.Errorf("%s: Auto-Submitted %q", c.to, got)
		}
		if c.body != "" && !strings.Contains(string(decodeBody(t, r.Message)), c.body) {
			t.Errorf("%s: body lacks %q:\n%s", c.to, c.body, r.Message)
		}
	}

	// Every vacation decision is recorded for the submission listener,
	// whatever it was; none where the script did not reach vacation.
	for user, want := range map[string]int{"alice@example.test": 2, "bob@example.test": 5, "dave@example.test": 0, "zed@example.test": 0} {
		marks, err := f.db.ListDedup(user, "<vacation-decided>")
		if err != nil {
			t.Fatal(err)
		}
		if len(marks) != want {
			t.Errorf("%s: %d decision marks, want %d", user, len(marks), want)
		}
	}
}

// TestMailuAdminDown: with the admin down the recipient gets a 451, nothing
// is forwarded or queued; Postfix's retry once it is back gets the reply.
func TestMailuAdminDown(t *testing.T) {
	f := newMailuFixture(t)
	f.admin.SetDown(true)
	raw := postfixMessage("kim@internet.example", "carol@example.test", "while down", "")
	for range 2 { // the breaker's own path is tested in package delivery
		if st := f.deliver(t, "kim@internet.example", "carol@example.test", raw); st.Code != 451 {
			t.Fatalf("admin down: %s, want 451", st)
		}
	}
	if fw := f.down.take(); len(fw) != 0 {
		t.Fatalf("forwarded while the admin was down: %+v", fw)
	}
	if recs := f.replies(t); len(recs) != 0 {
		t.Fatalf("queued while the admin was down: %d", len(recs))
	}
	f.admin.SetDown(false)
	if st := f.deliver(t, "kim@internet.example", "carol@example.test", raw); st.Code != 250 {
		t.Fatalf("admin back: %s", st)
	}
	if recs := f.replies(t); len(recs) != 1 || header(t, recs[0], "Subject") != "None" {
		t.Fatalf("after the retry: %d replies, want carol's", len(recs))
	}
}
