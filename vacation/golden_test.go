package vacation

import (
	"bytes"
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/vacationd/vacationd/mailaddr"
	"github.com/vacationd/vacationd/sieve"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata/vacation")

// goldenCase is the JSON part of a testdata/vacation/*.case file; the
// incoming message follows a line "---".
type goldenCase struct {
	Envelope struct {
		From   string `json:"from"`
		To     string `json:"to"`
		OrigTo string `json:"orig_to"`
	} `json:"envelope"`
	Settings map[string]string `json:"settings"`
	Action   struct {
		Reason    string   `json:"reason"`
		Subject   string   `json:"subject"`
		From      string   `json:"from"`
		Addresses []string `json:"addresses"`
		Mime      bool     `json:"mime"`
		Handle    string   `json:"handle"`
		Days      *int     `json:"days"`
		Seconds   *int     `json:"seconds"`
	} `json:"action"`
	Seen bool `json:"seen"` // the reply was already recorded
}

var fixedNow = time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)

func loadCase(t testing.TB, path string) (*goldenCase, *Input) {
	t.Helper()
	raw, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	js, msg, ok := bytes.Cut(raw, []byte("\n---\n"))
	if !ok {
		t.Fatalf("%s: no line --- between the case and the message", path)
	}
	var c goldenCase
	dec := json.NewDecoder(bytes.NewReader(js))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&c); err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	a := &sieve.Vacation{
		Reason: c.Action.Reason, Subject: c.Action.Subject, From: c.Action.From,
		Addresses: c.Action.Addresses, Mime: c.Action.Mime, Handle: c.Action.Handle,
	}
	if a.Handle == "" {
		a.Handle = a.Reason + "|" + a.Subject + "|" + a.From
	}
	switch {
	case c.Action.Days != nil:
		a.PeriodSet, a.Period = true, time.Duration(*c.Action.Days)*24*time.Hour
	case c.Action.Seconds != nil:
		a.PeriodSet, a.Seconds, a.Period = true, true, time.Duration(*c.Action.Seconds)*time.Second
	}
	in := &Input{User: "bob", Action: a, Message: sieve.ParseMessage(msg), Envelope: Envelope(c.Envelope)}
	return &c, in
}

func newTestResponder(t testing.TB, settings map[string]string) *Responder {
	t.Helper()
	s, err := ParseSettings(settings)
	if err != nil {
		t.Fatal(err)
	}
	return &Responder{
		Settings:  s,
		Dedup:     &MemoryDedup{},
		Now:       func() time.Time { return fixedNow },
		MessageID: func() string { return "<reply-1@vacationd.test>" },
	}
}

// render is the golden form of a decision and its reply.
func render(d *Decision, rep *Reply) string {
	var b strings.Builder
	if d.Send {
		fmt.Fprintf(&b, "send: yes\n")
	} else {
		fmt.Fprintf(&b, "send: no\nreason: %s\n", d.Reason)
	}
	fmt.Fprintf(&b, "detail: %s\n", d.Detail)
	for _, w := range d.Warnings {
		fmt.Fprintf(&b, "warning: %s\n", w)
	}
	if d.Send {
		fmt.Fprintf(&b, "key: user=%q sender=%q handle=%q\n", d.Key.User, d.Key.Sender, d.Key.Handle)
		fmt.Fprintf(&b, "period: %v\n", d.Period)
		if d.Expires.IsZero() {
			fmt.Fprintf(&b, "expires: never recorded\n")
		} else {
			fmt.Fprintf(&b, "expires: %s\n", d.Expires.Format(time.RFC3339))
		}
		fmt.Fprintf(&b, "mail-from: <%s>\nrcpt-to: <%s>\n", d.MailFrom, d.RcptTo)
	}
	if rep != nil {
		for _, w := range rep.Warnings {
			fmt.Fprintf(&b, "warning: %s\n", w)
		}
		b.WriteString("--- reply\n")
		b.WriteString(strings.ReplaceAll(string(rep.Message), "\r\n", "\n"))
	}
	return b.String()
}

func TestGolden(t *testing.T) {
	files, err := filepath.Glob("../testdata/vacation/*.case")
	if err != nil {
		t.Fatal(err)
	}
	if len(files) == 0 {
		t.Fatal("no cases in ../testdata/vacation")
	}
	reasons := map[Reason]bool{}
	for _, file := range files {
		name := strings.TrimSuffix(filepath.Base(file), ".case")
		t.Run(name, func(t *testing.T) {
			c, in := loadCase(t, file)
			r := newTestResponder(t, c.Settings)
			ctx := context.Background()
			if c.Seen {
				k := Key{User: in.User, Sender: strings.ToLower(mailaddr.TrimAngle(in.Envelope.From)), Handle: in.Action.Handle}
				if err := r.Dedup.Mark(ctx, k, fixedNow.Add(-time.Hour), fixedNow.Add(time.Hour)); err != nil {
					t.Fatal(err)
				}
			}
			d, rep, err := r.Respond(ctx, in)
			if err != nil {
				t.Fatal(err)
			}
			reasons[d.Reason] = true
			if rep != nil {
				checkWireFormat(t, rep.Message)
			}
			got := render(d, rep)
			golden := strings.TrimSuffix(file, ".case") + ".golden"
			if *update {
				if err := os.WriteFile(golden, []byte(got), 0o644); err != nil {
					t.Fatal(err)
				}
				return
			}
			want, err := os.ReadFile(golden)
			if err != nil {
				t.Fatalf("%v (run go test ./vacation -run TestGolden -update)", err)
			}
			if got != string(want) {
				t.Errorf("%s differs from %s:\n--- got\n%s--- want\n%s", name, golden, got, want)
			}
		})
	}
	var missing []string
	for _, r := range []Reason{NullSender, OwnAddress, SenderInAddresses, Duplicate, MailingList,
		AutoSubmitted, Precedence, AutoResponseSuppress, SystemAddress, ImplicitDelivery,
		NullRecipient} {
		if !reasons[r] {
			missing = append(missing, string(r))
		}
	}
	sort.Strings(missing)
	if len(missing) > 0 {
		t.Errorf("no golden case for reasons %v", missing)
	}
}

// checkWireFormat asserts every line ends in CRLF, no header line is longer
// than 998 octets and the header is 7-bit ASCII.
func checkWireFormat(t *testing.T, msg []byte) {
	t.Helper()
	hdr, _, ok := bytes.Cut(msg, []byte("\r\n\r\n"))
	if !ok {
		t.Fatalf("reply has no blank line after the header:\n%s", msg)
	}
	for i, c := range msg {
		if c == '\n' && (i == 0 || msg[i-1] != '\r') {
			t.Fatalf("bare LF at offset %d", i)
		}
		if c == '\r' && (i+1 >= len(msg) || msg[i+1] != '\n') {
			t.Fatalf("bare CR at offset %d", i)
		}
		if c == 0 {
			t.Fatalf("NUL at offset %d", i)
		}
	}
	for _, line := range bytes.Split(hdr, []byte("\r\n")) {
		if len(line) > 998 {
			t.Errorf("header line longer than 998 octets: %.60q...", line)
		}
		for _, c := range line {
			if c >= 0x80 {
				t.Errorf("8-bit header line %q", line)
				break
			}
		}
	}
}
