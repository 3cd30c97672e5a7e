package vacation

import (
	"reflect"
	"strings"
	"testing"
)

// TestParseAddressList pins the lenient parsing; the "bob" column is what
// Pigeonhole 0.5.19 decides when the value is the To of a message to
// bob@example.com (whether bob's address is found in it).
func TestParseAddressList(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want []string // "name|address"
	}{
		{"bob@example.com", []string{"|bob@example.com"}},
		{"Bob <bob@example.com>", []string{"Bob|bob@example.com"}},
		{`"Bob, B." <bob@example.com>, carol@example.net`, []string{"Bob, B.|bob@example.com", "|carol@example.net"}},
		{"=?utf-8?q?B=C3=B6b?= <bob@example.com>", []string{"Böb|bob@example.com"}},
		{"bob@example.com, broken <<carol@example.net", []string{"|bob@example.com"}},
		{"broken <<carol@example.net, bob@example.com", nil},
		{"carol, bob@example.com", []string{"|bob@example.com"}},
		{"Carol <carol@example.net> garbage, bob@example.com", []string{"Carol|carol@example.net"}},
		{"<bob@example.com", []string{"|bob@example.com"}},
		// A comment after an addr-spec is its display name (sieve-test
		// replies To: "comment, bob@example.com" <x@y.z>).
		{"x@y.z (comment, bob@example.com)", []string{"comment, bob@example.com|x@y.z"}},
		{"Team: carol@example.net;, bob@example.com", []string{"|carol@example.net", "|bob@example.com"}},
		{"undisclosed-recipients:;", nil},
		{"bob@example.com;", []string{"|bob@example.com"}},
		{"@, bob@example.com", []string{"|bob@example.com"}},
		{"bob@example.com)", []string{"|bob@example.com"}},
		{"<@route.example:bob@example.com>", []string{"|bob@example.com"}},
		{`"bob smith"@example.com`, []string{"|bob smith@example.com"}},
		{"bob@[192.0.2.1]", []string{"|bob@[192.0.2.1]"}},
		{"", nil},
		// Checked with sieve-test 2.3.19.
		{"carol@example.org; bob@example.com", []string{"|carol@example.org"}},
		{"A: B: bob@example.com;;", nil},
		{"bob@example.com (unclosed", nil},
		{"carol@example.org, bob@example.com (unclosed", []string{"|carol@example.org"}},
		{"Carol <bob@example.com x, carol@example.org", []string{"Carol|bob@example.com"}},
		{"<bob@example.com> (unclosed", []string{"|bob@example.com"}},
		{"bob <carol@example.com> (unclosed", []string{"bob|carol@example.com"}},
		{"a, \"q\" Bob, bob@example.com", []string{"|bob@example.com"}},
		{": bob@example.com", []string{"|bob@example.com"}},
		{"bob@example.com .(unclosed", nil},
		{"bob@example .com", []string{"|bob@example.com"}},
		{"bob@example. com", []string{"|bob@example.com"}},
		{"bob@example.com. \"q\"", []string{"|bob@example.com."}},
		{". <bob@example.com>", nil},
		{".x, bob@example.com", []string{"|bob@example.com"}},
		{", ., bob@example.com", []string{"|bob@example.com"}},
		{"G:; bob @ example.com", nil},
		{"G: carol@example.org; bob@example.com", []string{"|carol@example.org"}},
		{"carol@example.org, .bob@example.com", []string{"|carol@example.org", "|.bob@example.com"}},
		{"\"q\" (unclosed(unclosed (c) \\", nil},
		{"(\\", nil},
		// A malformed element is skipped and the list goes on after the
		// comma where the parse stopped, as Dovecot's message_address_parse
		// (issue 10; each checked with sieve-test 2.3.19, testdata/difftest/addr-recover-*).
		{"dave@x.example, garbage<, bob@example.com", []string{"|dave@x.example", "|bob@example.com"}},
		{"dave@x.example, <garbage, bob@example.com", []string{"|dave@x.example", "|bob@example.com"}},
		{"dave@x.example, garbage<x, bob@example.com", []string{"|dave@x.example", "|bob@example.com"}},
		{`dave@x.example, "unbalanced" <, bob@example.com`, []string{"|dave@x.example", "|bob@example.com"}},
		{"dave@x.example, G: <x, bob@example.com", []string{"|dave@x.example", "|bob@example.com"}},
		{"dave@x.example, <>, bob@example.com", []string{"|dave@x.example", "|bob@example.com"}},
		{"dave@x.example, garbage<@>, bob@example.com", []string{"|dave@x.example", "|bob@example.com"}},
		{"dave@x.example, garbage<a@b, bob@example.com", []string{"|dave@x.example", "garbage|a@b", "|bob@example.com"}},
		{"garbage<, bob@example.com", []string{"|bob@example.com"}},
		{"<, bob@example.com", []string{"|bob@example.com"}},
	} {
		var got []string
		for _, a := range parseAddressList(tc.in) {
			got = append(got, a.Name+"|"+a.Address)
		}
		if !reflect.DeepEqual(got, tc.want) {
			t.Errorf("parseAddressList(%q) = %q, want %q", tc.in, got, tc.want)
		}
	}
}

func TestSystemAddress(t *testing.T) {
	for addr, want := range map[string]bool{
		"MAILER-DAEMON@example.org": true, "mailer-daemon@example.org": true,
		"listserv@example.org": true, "Majordomo@example.org": true,
		"dev-request@example.org": true, "dev-request-x@example.org": true,
		"owner-dev@example.org": true, "Owner-dev@example.org": false,
		"alice@example.org": false, "request@example.org": false, "dev-owner@example.org": false,
	} {
		if got := isSystemAddress(addr); got != want {
			t.Errorf("isSystemAddress(%q) = %v, want %v", addr, got, want)
		}
	}
}

func TestParseMailbox(t *testing.T) {
	for in, want := range map[string]string{
		"bob@example.com":               "|bob@example.com",
		"Bob <bob@EXAMPLE.com>":         "Bob|bob@example.com",
		"<bob@example.com>":             "|bob@example.com",
		"bob@example.com (Bob)":         "|bob@example.com",
		"G: bob@example.com;":           "invalid",
		"a@example.com, b@example.com":  "invalid",
		"bob":                           "invalid",
		"bob@example.com\r\nBcc: x@y.z": "invalid",
		// Mailu's template: the name inside quotes, its own quotes and
		// backslashes unescaped; a valid quoted string keeps its escapes.
		`"Alice "Ali" $Doe \ test" <alice@example.test>`: `Alice "Ali" $Doe \ test|alice@example.test`,
		`"Bob \"B\" Smith" <bob@example.com>`:            `Bob "B" Smith|bob@example.com`,
		`"Bob, Jr." <bob@example.com>`:                   `Bob, Jr.|bob@example.com`,
	} {
		got := "invalid"
		if a, ok := parseMailbox(in); ok {
			got = a.Name + "|" + a.Address
		}
		if got != want && !(want == "|bob@example.com" && strings.HasSuffix(got, "|bob@example.com")) {
			t.Errorf("parseMailbox(%q) = %q, want %q", in, got, want)
		}
	}
}

// FuzzParseAddressList: no header value makes the parser panic or loop.
func FuzzParseAddressList(f *testing.F) {
	for _, s := range []string{"bob@example.com", "(\\", "\"q\" (a(b \\", "G: a@b;, <c@d", "a@b .(", "<@r:a@b>", "=?utf-8?q?x?= <a@b>"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		for _, a := range parseAddressList(s) {
			if a.Address == "" {
				t.Fatalf("%q: empty address listed", s)
			}
		}
	})
}
