package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"mime"
	"net"
	"net/mail"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/emersion/go-smtp"

	"github.com/vacationd/vacationd/delivery"
	"github.com/vacationd/vacationd/internal/peertest"
	"github.com/vacationd/vacationd/relay"
	"github.com/vacationd/vacationd/sieve"
	"github.com/vacationd/vacationd/store"
	"github.com/vacationd/vacationd/transport"
)

// The difftest corpora: every case runs through the service path and
// through `vacationd test --json`, which the difftest compares with
// Pigeonhole's sieve-test. So the service is what Pigeonhole judges.
var serviceCaseRoots = []string{
	"../../../shared/difftest/cases",
	"../../../shared/realworld",
	"../../testdata/difftest",
}

// diffCase is one difftest case directory (../shared/difftest/README.md).
type diffCase struct {
	dir, from, to, origTo, extensions string
	fromSet                           bool
	settings                          []string
}

func readDiffCase(dir string) (*diffCase, error) {
	f, err := os.Open(filepath.Join(dir, "case.conf"))
	if err != nil {
		return nil, err
	}
	defer f.Close()
	c := &diffCase{dir: dir}
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		if kv, ok := strings.CutPrefix(line, "setting "); ok {
			k, v, _ := strings.Cut(kv, "=")
			c.settings = append(c.settings, strings.TrimSpace(k)+"="+strings.TrimSpace(v))
			continue
		}
		k, v, _ := strings.Cut(line, "=")
		switch strings.TrimSpace(k) {
		case "from":
			c.from, c.fromSet = strings.TrimSpace(v), true
		case "to":
			c.to = strings.TrimSpace(v)
		case "orig_to":
			c.origTo = strings.TrimSpace(v)
		case "extensions":
			c.extensions = strings.TrimSpace(v)
		}
	}
	return c, sc.Err()
}

// vacationFacets are what both paths must agree on: the outcome, and for
// a reply its envelope and the header fields the difftest compares.
type vacationFacets struct {
	Outcome                        string // none, sent, suppressed:REASON
	EnvFrom, EnvTo                 string
	From, To, Subject              string
	InReplyTo, References, AutoSub string
	Precedence                     string
}

func replyFacets(envFrom, envTo string, raw []byte) vacationFacets {
	f := vacationFacets{Outcome: "sent", EnvFrom: strings.ToLower(envFrom), EnvTo: strings.ToLower(envTo)}
	m, err := mail.ReadMessage(bytes.NewReader(raw))
	if err != nil {
		f.Subject = "unparsable reply: " + err.Error()
		return f
	}
	addrs := func(name string) string {
		l, _ := m.Header.AddressList(name)
		var out []string
		for _, a := range l {
			out = append(out, strings.ToLower(a.Address))
		}
		return strings.Join(out, ",")
	}
	dec := new(mime.WordDecoder)
	subj, err := dec.DecodeHeader(m.Header.Get("Subject"))
	if err != nil {
		subj = m.Header.Get("Subject")
	}
	f.From, f.To = addrs("From"), addrs("To")
	f.Subject = strings.Join(strings.Fields(subj), " ")
	f.InReplyTo = m.Header.Get("In-Reply-To")
	f.References = strings.Join(strings.Fields(m.Header.Get("References")), " ")
	f.AutoSub = m.Header.Get("Auto-Submitted")
	f.Precedence = m.Header.Get("Precedence")
	return f
}

// cliFacets runs `vacationd test --json` on the case.
func cliFacets(t *testing.T, c *diffCase, now string) vacationFacets {
	args := []string{"test", "--json", "--now", now}
	if c.fromSet {
		args = append(args, "-f", c.from)
	}
	if c.to != "" {
		args = append(args, "-r", c.to)
	}
	if c.origTo != "" {
		args = append(args, "-a", c.origTo)
	}
	if c.extensions != "" {
		args = append(args, "-x", c.extensions)
	}
	for _, s := range c.settings {
		args = append(args, "-o", s)
	}
	args = append(args, filepath.Join(c.dir, "script.sieve"), filepath.Join(c.dir, "message.eml"))
	var stdout, stderr bytes.Buffer
	run(args, &stdout, &stderr)
	var doc struct {
		CompileError bool             `json:"compile_error"`
		Actions      []map[string]any `json:"actions"`
	}
	if err := json.Unmarshal(stdout.Bytes(), &doc); err != nil {
		t.Fatalf("test --json: %v\nstderr: %s", err, stderr.String())
	}
	f := vacationFacets{Outcome: "none"}
	if doc.CompileError {
		return f
	}
	for _, a := range doc.Actions {
		if a["type"] != "vacation" {
			continue
		}
		if sent, _ := a["sent"].(bool); sent {
			ef, _ := a["envelope_from"].(string)
			et, _ := a["envelope_to"].(string)
			msg, _ := a["message"].(string)
			f = replyFacets(ef, et, []byte(msg))
		} else if r, _ := a["reason"].(string); r != "" {
			f = vacationFacets{Outcome: "suppressed:" + r}
		}
	}
	return f
}

// captureSender is the fake relay's SMTP side: it keeps what it is given.
type captureSender struct {
	mu   sync.Mutex
	sent []capturedMail
}

type capturedMail struct {
	from string
	to   []string
	msg  []byte
}

func (s *captureSender) Send(_ context.Context, from string, to []string, msg []byte) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.sent = append(s.sent, capturedMail{from, to, append([]byte(nil), msg...)})
	return nil
}

func (s *captureSender) Close() error { return nil }

func (s *captureSender) take() []capturedMail {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := s.sent
	s.sent = nil
	return out
}

// servicePath is one running service: an LMTP server whose deliverer is
// swapped for each case's settings, a store, and a relay whose SMTP side
// is captureSender.
type servicePath struct {
	t       *testing.T
	addr    string
	db      *store.DB
	dir     string
	cur     *swapDeliverer
	sender  *captureSender
	logs    *peertest.SyncBuffer
	log     *slog.Logger
	metrics *delivery.Metrics
}

func startServicePath(t *testing.T) *servicePath {
	dir := t.TempDir()
	db, err := store.Open(filepath.Join(dir, "vacationd.db"), store.Options{NoSync: true})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	sp := &servicePath{t: t, db: db, dir: dir, cur: &swapDeliverer{}, sender: &captureSender{}, logs: &peertest.SyncBuffer{},
		metrics: delivery.NewMetrics(nil)}
	sp.log = slog.New(slog.NewJSONHandler(sp.logs, nil))
	srv, err := transport.NewServer(transport.Config{Deliverer: sp.cur, Hostname: "mx.example.com", Logger: sp.log})
	if err != nil {
		t.Fatal(err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	sp.addr = ln.Addr().String()
	go srv.Serve(ln)
	t.Cleanup(func() { srv.Close() })
	rl, err := relay.New(relay.Config{DB: db, NewSender: func() relay.Sender { return sp.sender },
		IsTemporary: func(error) bool { return true }, Workers: 1, Logger: sp.log})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { defer close(done); rl.Run(ctx) }()
	t.Cleanup(func() { cancel(); <-done })
	return sp
}

// run delivers the case through LMTP with the case's script as the
// recipient's and its settings as -o, lets the relay send what was
// queued, and returns the vacation facets the service produced.
func (sp *servicePath) run(c *diffCase) (vacationFacets, error) {
	raw, err := os.ReadFile(filepath.Join(c.dir, "message.eml"))
	if err != nil {
		return vacationFacets{}, err
	}
	raw = stripMboxFrom(raw)
	env := defaultEnvelope(sieve.ParseMessage(raw), &testOptions{from: c.from, fromSet: c.fromSet, to: c.to, origTo: c.origTo})
	// The user whose script runs, as serve finds it: the case's
	// recipient_delimiter cuts the detail.
	set, _ := delivery.ParseSettings(c.settings)
	user := delivery.UserKey(env.To, userDelimiter(set))
	local, domain, ok := strings.Cut(user, "@")
	if !ok || !safeCaseName(local) || !safeCaseName(domain) {
		return vacationFacets{}, fmt.Errorf("recipient %q has no script file name", env.To)
	}
	scripts := filepath.Join(sp.dir, "scripts")
	os.RemoveAll(scripts)
	udir := filepath.Join(scripts, domain)
	if err := os.MkdirAll(udir, 0o755); err != nil {
		return vacationFacets{}, err
	}
	// The case's script, and the scripts it may include beside it.
	names, _ := filepath.Glob(filepath.Join(c.dir, "*.sieve"))
	for _, n := range names {
		b, _ := os.ReadFile(n)
		dst := filepath.Join(udir, filepath.Base(n))
		if filepath.Base(n) == "script.sieve" {
			dst = filepath.Join(udir, local+".sieve")
		}
		if err := os.WriteFile(dst, b, 0o644); err != nil {
			return vacationFacets{}, err
		}
	}
	o := &serveOptions{scripts: scripts, extensions: c.extensions, settings: c.settings, hostname: "mx.example.com"}
	svc, err := newDeliveryService(o, sp.db, nil, sp.metrics, sp.log)
	if err != nil {
		return vacationFacets{}, &refusedError{err}
	}
	sp.cur.set(svc)
	sp.logs.Take()
	if _, err := lmtpSend(sp.addr, env, raw); err != nil {
		return vacationFacets{}, err
	}
	reason := recipientReason(sp.logs.Take())
	// Let the relay send everything queued.
	deadline := time.Now().Add(10 * time.Second)
	for {
		n, _, err := sp.db.OutboxStats(time.Now())
		if err != nil {
			return vacationFacets{}, err
		}
		if n == 0 {
			break
		}
		if time.Now().After(deadline) {
			return vacationFacets{}, fmt.Errorf("the relay left %d records in the outbox", n)
		}
		time.Sleep(2 * time.Millisecond)
	}
	var replies []capturedMail
	for _, m := range sp.sender.take() {
		if isVacationReplyMsg(m.msg) {
			replies = append(replies, m)
		}
	}
	if _, err := sp.db.ForgetDedup(user, ""); err != nil {
		return vacationFacets{}, err
	}
	switch {
	case len(replies) > 1:
		return vacationFacets{}, fmt.Errorf("%d replies reached the relay", len(replies))
	case len(replies) == 1:
		if reason != "queued" {
			return vacationFacets{}, fmt.Errorf("a reply reached the relay, but the log says vacation=%s", reason)
		}
		return replyFacets(replies[0].from, strings.Join(replies[0].to, ","), replies[0].msg), nil
	case reason == "-" || reason == "" || reason == "error":
		return vacationFacets{Outcome: "none"}, nil
	case reason == "queued":
		return vacationFacets{}, fmt.Errorf("the log says vacation=queued, but no reply reached the relay")
	}
	return vacationFacets{Outcome: "suppressed:" + reason}, nil
}

// refusedError is serve refusing a case's options at start: settings
// that sieve-test takes with a warning and its default (an invalid
// boolean or period), which the service refuses, naming the setting.
type refusedError struct{ err error }

func (e *refusedError) Error() string { return "serve refuses the case's options: " + e.err.Error() }

func safeCaseName(s string) bool {
	return s != "" && !strings.ContainsAny(s, "/\\\x00\"<> ") && !strings.HasPrefix(s, ".")
}

// isVacationReplyMsg tells a vacation reply from a redirected message.
func isVacationReplyMsg(raw []byte) bool {
	m, err := mail.ReadMessage(bytes.NewReader(raw))
	if err != nil {
		return false
	}
	return strings.HasPrefix(m.Header.Get("Auto-Submitted"), "auto-replied") && m.Header.Get("X-Sieve-Redirected-From") == ""
}

// recipientReason is the vacation field of the service's recipient log line.
func recipientReason(logs string) string {
	reason := ""
	for _, line := range strings.Split(logs, "\n") {
		var rec map[string]any
		if json.Unmarshal([]byte(line), &rec) != nil || rec["msg"] != "recipient" {
			continue
		}
		reason, _ = rec["vacation"].(string)
	}
	return reason
}

// lmtpSend delivers raw to env's recipient over LMTP, as Postfix would.
// A permanent refusal of the recipient (a script's reject) is no error:
// rejected reports it.
func lmtpSend(addr string, env sieve.Envelope, raw []byte) (rejected bool, err error) {
	conn, err := net.DialTimeout("tcp", addr, 5*time.Second)
	if err != nil {
		return false, err
	}
	c := smtp.NewClientLMTP(conn)
	defer c.Close()
	if err := c.Hello("client.example.net"); err != nil {
		return false, err
	}
	if err := c.Mail(env.From, nil); err != nil {
		return false, fmt.Errorf("MAIL FROM:<%s>: %w", env.From, err)
	}
	var ro *smtp.RcptOptions
	if env.OrigTo != "" && env.OrigTo != env.To {
		ro = &smtp.RcptOptions{OriginalRecipientType: smtp.DSNAddressTypeRFC822, OriginalRecipient: env.OrigTo}
	}
	if err := c.Rcpt(env.To, ro); err != nil {
		return false, fmt.Errorf("RCPT TO:<%s>: %w", env.To, err)
	}
	w, err := c.Data()
	if err != nil {
		return false, err
	}
	if _, err := io.Copy(w, bytes.NewReader(raw)); err != nil {
		return false, err
	}
	if _, err := w.CloseWithLMTPResponse(); err != nil {
		var lerr smtp.LMTPDataError
		if errors.As(err, &lerr) && lerr[env.To] != nil && lerr[env.To].Code >= 500 {
			return true, c.Quit()
		}
		return false, fmt.Errorf("end of DATA: %w", err)
	}
	return false, c.Quit()
}

// TestServicePathAgreesWithTest runs every difftest case through the
// running service (LMTP in, the relay out) and through `vacationd test
// --json`: both must give the same vacation outcome and reply fields.
func TestServicePathAgreesWithTest(t *testing.T) {
	var dirs []string
	for _, root := range serviceCaseRoots {
		entries, err := os.ReadDir(root)
		if os.IsNotExist(err) && strings.Contains(root, "shared") && os.Getenv("CI") == "" {
			t.Logf("%s missing; its cases are not run", root)
			continue
		}
		if err != nil {
			t.Fatal(err)
		}
		for _, e := range entries {
			if _, err := os.Stat(filepath.Join(root, e.Name(), "case.conf")); err == nil {
				dirs = append(dirs, filepath.Join(root, e.Name()))
			}
		}
	}
	sort.Strings(dirs)
	if len(dirs) < 500 {
		t.Fatalf("only %d cases found", len(dirs))
	}
	sp := startServicePath(t)
	now := time.Now().UTC().Format(time.RFC3339)
	var agree, refused int
	for _, d := range dirs {
		c, err := readDiffCase(d)
		if err != nil {
			t.Fatal(err)
		}
		want := cliFacets(t, c, now)
		got, err := sp.run(c)
		var re *refusedError
		if errors.As(err, &re) {
			// Pigeonhole warns and goes on with its default; serve
			// refuses to start, and must name the setting.
			named := false
			for _, kv := range c.settings {
				name, _, _ := strings.Cut(kv, "=")
				named = named || strings.Contains(re.err.Error(), name)
			}
			if !named {
				t.Errorf("%s: %v: names none of the case's settings", d, err)
			}
			refused++
			continue
		}
		if err != nil {
			t.Errorf("%s: service path: %v (test --json: %+v)", d, err, want)
			continue
		}
		if got != want {
			t.Errorf("%s:\n service: %+v\n    test: %+v", d, got, want)
			continue
		}
		agree++
	}
	t.Logf("%d of %d cases agree between the service and test --json; serve refuses the settings of %d, naming them", agree, len(dirs), refused)
}

// TestCheckAndServeAcceptTheSameScripts: under the same -x/--extensions
// and -o, `vacationd check` accepts a script exactly when the service
// compiles and runs it.
func TestCheckAndServeAcceptTheSameScripts(t *testing.T) {
	scripts := map[string]string{
		"plain":      "require \"vacation\";\nvacation \"away\";\n",
		"seconds":    "require [\"vacation\", \"vacation-seconds\"];\nvacation :seconds 0 \"away\";\n",
		"editheader": "require [\"editheader\", \"vacation\"];\naddheader \"X-A\" \"b\";\nvacation \"away\";\n",
		"enotify":    "require [\"enotify\", \"vacation\"];\nvacation \"away\";\n",
		"spamtest":   "require [\"spamtest\", \"relational\", \"comparator-i;ascii-numeric\", \"vacation\"];\nif spamtest :value \"lt\" :comparator \"i;ascii-numeric\" \"5\" { vacation \"away\"; }\n",
		"broken":     "require \"vacation\";\nvacation :days \"x\" \"away\";\n",
	}
	for _, tc := range []struct{ ext, setting string }{
		{"", ""},
		{"+vacation-seconds +editheader", ""},
		{"", "sieve_extensions=+spamtest +vacation-seconds"},
		{"-enotify", ""},
	} {
		for name, src := range scripts {
			t.Run(name+" "+tc.ext+" "+tc.setting, func(t *testing.T) {
				dir := t.TempDir()
				path := filepath.Join(dir, "example.com", "bob.sieve")
				os.MkdirAll(filepath.Dir(path), 0o755)
				if err := os.WriteFile(path, []byte(src), 0o644); err != nil {
					t.Fatal(err)
				}
				args := []string{"check"}
				o := &serveOptions{scripts: dir, extensions: tc.ext, hostname: "mx.example.com"}
				if tc.ext != "" {
					args = append(args, "-x", tc.ext)
				}
				if tc.setting != "" {
					args = append(args, "-o", tc.setting)
					o.settings = listFlag{tc.setting}
				}
				var stdout, stderr bytes.Buffer
				checked := run(append(args, path), &stdout, &stderr) == 0

				var logs peertest.SyncBuffer
				log := slog.New(slog.NewJSONHandler(&logs, nil))
				db, err := store.Open(filepath.Join(t.TempDir(), "vacationd.db"), store.Options{NoSync: true})
				if err != nil {
					t.Fatal(err)
				}
				defer db.Close()
				svc, err := newDeliveryService(o, db, nil, delivery.NewMetrics(nil), log)
				if err != nil {
					t.Fatal(err)
				}
				env := &transport.Envelope{From: "alice@example.org", Recipients: []transport.Recipient{{Addr: "bob@example.com"}}}
				svc.Deliver(context.Background(), env, []byte("From: alice@example.org\r\nTo: bob@example.com\r\nSubject: x\r\n\r\nhi\r\n"))
				served := !strings.Contains(logs.Take(), "does not compile")
				if checked != served {
					t.Errorf("check accepts: %v (%s), the service compiles it: %v", checked, strings.TrimSpace(stderr.String()), served)
				}
			})
		}
	}
}
