package sieve

import (
	"context"
	"strings"
	"testing"
)

// The explanations are Pigeonhole's for the same addresses.
func TestParseSieveAddress(t *testing.T) {
	tests := []struct{ in, want, err string }{
		{"stephan@example.org", "stephan@example.org", ""},
		{"Stephan Bosch <stephan@EXAMPLE.org>", "stephan@example.org", ""},
		{"\"Stephan Bosch\" <\"s.bosch\"@example.org>", "s.bosch@example.org", ""},
		{".japanese@example.com", ".japanese@example.com", ""},
		{"japanese...localpart@example.com", "japanese...localpart@example.com", ""},
		{"", "", "empty address"},
		{"@wrong.example.com", "", "invalid local part"},
		{"error", "", "invalid or lonely local part 'error' (expecting '@')"},
		{"error@", "", "invalid or missing domain"},
		{"Stephan Bosch error@example.org", "", "invalid or lonely local part 'Stephan' (expecting '@')"},
		{"Stephan Bosch <error@example.org", "", "missing '>'"},
		{"<>", "", "invalid local part"},
		{"Error <", "", "missing domain"},
		{"stephan@example.org,tss@example.net", "", "not a single address (found ',')"},
		{"rüdiger@example.com", "", "invalid local part"},
		// An empty phrase is allowed, as by Dovecot's rfc822_parse_phrase
		// (sieve-test 2.3.19 accepts :from "<bob@example.com>").
		{"<stephan@example.org>", "stephan@example.org", ""},
		{" <stephan@example.org> ", "stephan@example.org", ""},
		{"G: stephan@example.org;", "", "invalid or lonely local part 'G' (expecting '@')"},
	}
	for _, tc := range tests {
		a, err := parseSieveAddress(tc.in)
		if err != tc.err || (err == "" && a.String() != tc.want) {
			t.Errorf("parseSieveAddress(%q) = %q, %q; want %q, %q", tc.in, a.String(), err, tc.want, tc.err)
		}
	}
}

func TestParseSMTPPath(t *testing.T) {
	tests := []struct {
		in   string
		want string // smtp form; "<>" for the null path; "!" for invalid
	}{
		{"stephan@example.org", "stephan@example.org"},
		{"<stephan@example.org>", "stephan@example.org"},
		{"", "<>"},
		{"<>", "<>"},
		{"<MAILER-DAEMON>", "MAILER-DAEMON"},
		{"<@a.example,@b.example:stephan@example.org>", "stephan@example.org"},
		{"\"S[r]us\"@example.net", "\"S[r]us\"@example.net"},
		{"\"Sirius\"@example.net", "Sirius@example.net"},
		{"..japanese...localpart..@example.com", "\"..japanese...localpart..\"@example.com"},
		{"japanese@_example.com", "japanese@_example.com"},
		{"<<stephan@example.org>", "!"},
		{"stephan@example.org>", "!"},
		{"<stephan@example.org", "!"},
		{"hutsefluts@", "!"},
		{"<cola.example.org:stephan@example.org>", "!"},
		{"<@.example.org:stephan@example.org>", "!"},
		{"<@cola..nl:stephan@example.org>", "!"},
		{"<@cola.example.org,mx.utwente.nl:stephan@example.org>", "!"},
	}
	for _, tc := range tests {
		a, null, ok := parseSMTPPath(tc.in)
		got := a.smtpString()
		switch {
		case !ok:
			got = "!"
		case null:
			got = "<>"
		}
		if got != tc.want {
			t.Errorf("parseSMTPPath(%q) = %q, want %q", tc.in, got, tc.want)
		}
	}
}

func TestPlanRedirect(t *testing.T) {
	msg := ParseMessage([]byte("From: a@example.org\r\nX-Sieve-Redirected-From: loop@example.net\r\n\r\nbody\r\n"))
	env := Envelope{From: "sirius@example.org", To: "timo@example.net", OrigTo: "tss@example.net"}
	tests := []struct {
		name     string
		settings Settings
		env      Envelope
		from     string
		header   string
		loop     bool
	}{
		{"default", nil, env, "sirius@example.org", "timo@example.net", false},
		{"recipient", Settings{"sieve_redirect_envelope_from": " recipient "}, env, "timo@example.net", "timo@example.net", false},
		{"orig_recipient", Settings{"sieve_redirect_envelope_from": "orig_recipient"}, env, "tss@example.net", "timo@example.net", false},
		{"explicit", Settings{"sieve_redirect_envelope_from": "<backscatter@example.net>"}, env, "backscatter@example.net", "timo@example.net", false},
		{"explicit null", Settings{"sieve_redirect_envelope_from": "<>"}, env, "", "timo@example.net", false},
		{"user_email fallback", Settings{"sieve_redirect_envelope_from": "user_email"}, env, "timo@example.net", "timo@example.net", false},
		{"user_email", Settings{"sieve_redirect_envelope_from": "user_email", "sieve_user_email": "t@example.net"}, env, "t@example.net", "t@example.net", false},
		{"null sender stays null", Settings{"sieve_redirect_envelope_from": "<backscatter@example.net>"}, Envelope{To: "timo@example.net"}, "", "timo@example.net", false},
		{"loop by user email", Settings{"sieve_user_email": "loop@example.net"}, env, "sirius@example.org", "loop@example.net", true},
		{"loop by recipient", nil, Envelope{From: "a@b.c", To: "loop@example.net"}, "a@b.c", "loop@example.net", true},
	}
	for _, tc := range tests {
		d := PlanRedirect(tc.settings, tc.env, msg)
		if d.From != tc.from || d.RedirectedFrom != tc.header || d.Loop != tc.loop {
			t.Errorf("%s: got %+v, want from %q header %q loop %v", tc.name, d, tc.from, tc.header, tc.loop)
		}
	}
	out := string(RedirectDelivery{RedirectedFrom: "u@example.net"}.Message(msg))
	if want := "X-Sieve-Redirected-From: u@example.net\r\nFrom: a@example.org\r\n"; len(out) < len(want) || out[:len(want)] != want {
		t.Errorf("redirected message starts %q, want %q", out, want)
	}
}

func TestEncodedCharacters(t *testing.T) {
	tests := []struct{ in, want, err string }{
		{"${hex:40}", "@", ""},
		{"${HEX: 40 41 }", "@A", ""},
		{"${unicode:40 E9}", "@é", ""},
		{"${hex:}", "${hex:}", ""},
		{"${:40}", "@", ""}, // Pigeonhole matches type names by prefix
		{"${hex:40", "${hex:40", ""},
		{"$${hex:40}", "$@", ""},
		{"${hex:4x}", "${hex:4x}", ""},
		{"${unicode:D800}", "", "invalid unicode character 0x0000d800 in encoded character substitution"},
		{"${unicode:33333333333333333}", "", "invalid unicode character 0xffffffff in encoded character substitution"},
		{"${unicode:DF01", "${unicode:DF01", ""},
	}
	for _, tc := range tests {
		errs := &errorSink{}
		c := &checker{errs: errs}
		got := c.decodeEncodedCharacters(Position{}, tc.in)
		err := ""
		if len(errs.list) > 0 {
			err = errs.list[0].Msg
		}
		if err != tc.err || (err == "" && got != tc.want) {
			t.Errorf("%q: got %q, error %q; want %q, %q", tc.in, got, err, tc.want, tc.err)
		}
	}
}

func TestParseVarName(t *testing.T) {
	tests := []struct {
		in    string
		elems int
		ok    bool
	}{
		{"a", 1, true}, {"_a1", 1, true}, {"12", 1, true}, {"ns.a", 2, true},
		{"a.b.c.d.e.f.g.h.i.j", 10, true}, {"a.b.c.d.e.f.g.h.i.j.k", 0, false},
		{"", 0, false}, {"a.", 0, false}, {"1.a", 0, false}, {"a-b", 0, false},
	}
	for _, tc := range tests {
		elems, ok := parseVarName(tc.in)
		if ok != tc.ok || (ok && len(elems) != tc.elems) {
			t.Errorf("parseVarName(%q) = %d elements, %v; want %d, %v", tc.in, len(elems), ok, tc.elems, tc.ok)
		}
	}
}

func TestQuoteWildcard(t *testing.T) {
	tests := []struct {
		in   string
		max  int
		want string
	}{
		{"a*b?c\\", 100, `a\*b\?c\\`},
		{"0***", 4, `0\*`},
		{"ab€", 4, "ab"},
	}
	for _, tc := range tests {
		if got := quoteWildcard(tc.in, tc.max); got != tc.want {
			t.Errorf("quoteWildcard(%q, %d) = %q, want %q", tc.in, tc.max, got, tc.want)
		}
	}
}

// Address values of header fields, as Pigeonhole's address test sees them
// (checked against sieve-test).
func TestAddressValues(t *testing.T) {
	tests := []struct {
		raw  string
		ap   addrPart
		want string
	}{
		{"Alice <alice@Example.ORG>", apAll, "alice@Example.ORG"},
		{"\"quoted local\"@example.org", apAll, "\"quoted local\"@example.org"},
		{"\"quoted local\"@example.org", apLocal, "quoted local"},
		{"", apLocal, ""},
		{"  ", apAll, ""},
		{"nonsense", apAll, "nonsense"},
		{"nonsense", apLocal, "-"},
		{"undisclosed-recipients:;", apAll, "undisclosed-recipients:;"},
		{"ok@ok.example, nonsense", apAll, "ok@ok.example"},
		{"nonsense, ok@ok.example", apLocal, "ok"},
		{"a@b.example, c@", apAll, "a@b.example"},
		{"g: x@y.example;, z@w.example", apDomain, "y.example|w.example"},
		{"stephan@", apAll, "stephan@"},
		{"stephan@", apLocal, "-"},
	}
	r := &run{env: &Env{}, root: &Script{}}
	for _, tc := range tests {
		got := strings.Join(r.addressValues(tc.ap, tc.raw), "|")
		if got == "" && len(r.addressValues(tc.ap, tc.raw)) == 0 {
			got = "-"
		}
		if got != tc.want {
			t.Errorf("addressValues(%d, %q) = %q, want %q", tc.ap, tc.raw, got, tc.want)
		}
	}
}

func TestUnfold(t *testing.T) {
	tests := []struct{ in, want string }{
		{" a\r\n\tfolded", "a folded"},
		{" a \r\n\t d", "a   d"},
		{" a\r\n   c", "a   c"},
		{" a\tb ", "a\tb"},
	}
	for _, tc := range tests {
		if got := Unfold(tc.in); got != tc.want {
			t.Errorf("Unfold(%q) = %q, want %q", tc.in, got, tc.want)
		}
	}
}

// The envelope test reads "to" from the original recipient when there is
// one, like Pigeonhole, and only knows from, to and auth.
func TestEnvelopeTo(t *testing.T) {
	s, err := Compile("t", []byte(`require ["envelope", "fileinto", "variables"];
if envelope :matches "to" "*" { fileinto "${1}"; }`), nil)
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		env  Envelope
		want string
	}{
		{Envelope{To: "rcpt@example.com"}, "rcpt@example.com"},
		{Envelope{To: "rcpt@example.com", OrigTo: "alias@example.com"}, "alias@example.com"},
	} {
		res, err := s.Run(context.Background(), &Env{Envelope: tc.env})
		if err != nil {
			t.Fatal(err)
		}
		if len(res.Actions) != 1 || res.Actions[0].(*FileInto).Mailbox != tc.want {
			t.Errorf("%+v: actions %v, want fileinto %q", tc.env, res.Actions, tc.want)
		}
	}
	if _, err := Compile("t", []byte(`require "envelope"; if envelope "orig_to" "x" {}`), nil); err == nil ||
		!strings.Contains(err.Error(), "specified envelope part 'orig_to' is not supported by the envelope test") {
		t.Errorf("orig_to: error %v", err)
	}
}
