package sieve

import (
	"context"
	"strings"
	"testing"
	"unicode/utf8"
)

// bodyTestEval compiles `if TEST { discard; }` with the given requires and
// reports whether the test held against msg.
func bodyTestEval(t *testing.T, requires, test, msg string) bool {
	t.Helper()
	src := "require [\"body\"" + requires + "];\nif " + test + " { discard; }\n"
	s, err := Compile("t", []byte(src), nil)
	if err != nil {
		t.Fatalf("compile %q: %v", src, err)
	}
	res, err := s.Run(context.Background(), &Env{Message: ParseMessage([]byte(crlf(msg)))})
	if err != nil {
		t.Fatalf("run %q: %v", src, err)
	}
	return !res.ImplicitKeep
}

// crlf turns the LF line ends of a test message into CRLF.
func crlf(s string) string { return strings.ReplaceAll(s, "\n", "\r\n") }

const bodyNested = `From: a@example.com
Subject: nested
Content-Type: multipart/mixed; boundary=outer

This is the prologue.

--outer
Content-Type: multipart/alternative; boundary="inner"

Inner prologue.
--inner
Content-Type: text/plain; charset=iso-8859-1
Content-Transfer-Encoding: quoted-printable

Gr=FC=DFe aus K=F6ln, soft=
 break
--inner
Content-Type: text/html; charset=utf-8
Content-Transfer-Encoding: base64

PGh0bWw+PGJvZHk+PHA+SFRNTCZhbXA7dGV4dDwvcD48c2NyaXB0PmhpZGRlbigpPC9zY3JpcHQ+
PC9ib2R5PjwvaHRtbD4=
--inner--
Inner epilogue.
--outer
Content-Type: message/rfc822

From: b@example.com
Subject: enclosed

Enclosed body.
--outer
Content-Type: application/octet-stream
Content-Transfer-Encoding: x-unknown

secret stuff
--outer
Content-Type: text/plain/broken

broken type
--outer--
The epilogue.
`

const bodySimple = `From: a@example.com
Subject: simple

Hello World!
`

const bodyHeaderOnly = `From: a@example.com
Subject: nothing`

const bodyEmpty = `From: a@example.com
Subject: empty body

`

const bodyDigest = `Subject: digest
Content-Type: multipart/digest; boundary=b

--b

Subject: enclosed

digest body
--b--
`

func TestBodyTest(t *testing.T) {
	tests := []struct {
		name     string
		requires string
		test     string
		msg      string
		want     bool
	}{
		{"raw default :is", "", `body :raw "Hello World!"`, bodySimple, false},
		{"raw contains", "", `body :raw :contains "hello world"`, bodySimple, true},
		{"raw exact with CRLF", "", "body :raw :is text:\nHello World!\n.\n", bodySimple, true},
		{"raw matches", "", `body :raw :matches "Hello*"`, bodySimple, true},
		{"raw keeps boundaries", "", `body :raw :contains "--inner--"`, bodyNested, true},
		{"raw keeps encoding", "", `body :raw :contains "Gr=FC=DFe"`, bodyNested, true},
		{"header only: empty key", "", `body :raw :contains ""`, bodyHeaderOnly, false},
		{"header only: text", "", `body :text :matches "*"`, bodyHeaderOnly, false},
		{"empty body is one empty item", "", `body :text :is ""`, bodyEmpty, true},
		{"empty body raw has no item", "", `body :raw :contains ""`, bodyEmpty, false},
		{"header only: no text item", "", `body :text :is ""`, bodyHeaderOnly, false},
		{"digest part encloses a message", `, "relational", "comparator-i;ascii-numeric"`,
			`body :content "text" :count "eq" :comparator "i;ascii-numeric" "2"`, bodyDigest, true},
		{"digest message body", "", `body :content "text/plain" :is "digest body"`, bodyDigest, true},
		{"digest header not content", "", `body :content "" :contains "enclosed"`, bodyDigest, false},
		{"default is text", "", `body :contains "Hello World"`, bodySimple, true},
		{"qp and charset decoded", "", `body :content "text/plain" :contains "Grüße aus Köln"`, bodyNested, true},
		{"qp soft break", "", `body :content "text/plain" :contains "soft break"`, bodyNested, true},
		{"base64 decoded", "", `body :content "text/html" :contains "<p>HTML&amp;text</p>"`, bodyNested, true},
		{"text strips markup", "", `body :text :contains "HTML&text"`, bodyNested, true},
		{"text drops tags", "", `body :text :contains "<p>"`, bodyNested, false},
		{"text skips script", "", `body :text :contains "hidden"`, bodyNested, false},
		{"text skips non-text", "", `body :text :contains "secret"`, bodyNested, false},
		{"text skips prologue", "", `body :text :contains "prologue"`, bodyNested, false},
		{"multipart prologue", "", `body :content "multipart" :contains "This is the prologue."`, bodyNested, true},
		{"multipart epilogue", "", `body :content "multipart/mixed" :contains "The epilogue."`, bodyNested, true},
		{"inner epilogue", "", `body :content "multipart/alternative" :contains "Inner epilogue."`, bodyNested, true},
		{"no boundaries in multipart", "", `body :content "multipart" :contains "--inner"`, bodyNested, false},
		{"rfc822 header", "", "body :content \"message/rfc822\" :is text:\nFrom: b@example.com\nSubject: enclosed\n.\n", bodyNested, true},
		{"rfc822 body as text/plain", "", `body :content "text/plain" :contains "Enclosed body."`, bodyNested, true},
		{"unknown transfer encoding skipped", "", `body :content "application" :contains "secret"`, bodyNested, false},
		{"invalid content type matches only empty", "", `body :content "" :contains "broken type"`, bodyNested, true},
		{"invalid content type not text", "", `body :content "text" :contains "broken type"`, bodyNested, false},
		{"double slash matches nothing", "", `body :content "text/plain/broken" :contains ""`, bodyNested, false},
		{"main type only", "", `body :content "TEXT" :contains "Köln"`, bodyNested, true},
		{"count text parts", `, "relational", "comparator-i;ascii-numeric"`,
			`body :content "text" :count "eq" :comparator "i;ascii-numeric" "3"`, bodyNested, true},
		{"octet comparator", "", `body :raw :comparator "i;octet" :contains "hello"`, bodySimple, false},
		{"regex", `, "regex"`, `body :raw :regex "W[a-z]+d"`, bodySimple, true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if got := bodyTestEval(t, tc.requires, tc.test, tc.msg); got != tc.want {
				t.Errorf("%s = %v, want %v", tc.test, got, tc.want)
			}
		})
	}
}

func TestBodyKeepsMatchVariables(t *testing.T) {
	src := `require ["body", "variables"];
if header :matches "subject" "*" {}
if body :raw :matches "* World*" {}
if string :is "${1}" "simple" { discard; }
`
	s, err := Compile("t", []byte(src), nil)
	if err != nil {
		t.Fatal(err)
	}
	res, err := s.Run(context.Background(), &Env{Message: ParseMessage([]byte(crlf(bodySimple)))})
	if err != nil {
		t.Fatal(err)
	}
	if res.ImplicitKeep {
		t.Error("body test changed the match variables")
	}
}

func TestBodyCompileErrors(t *testing.T) {
	tests := []struct {
		src, want string
	}{
		{`require "body"; if body :raw :text "x" {}`, "mutually exclusive"},
		{`require "body"; if body :content "x" {}`, "requires 1 positional argument"},
		{`if body "x" {}`, "unknown test 'body'"},
	}
	for _, tc := range tests {
		_, err := Compile("t", []byte(tc.src), nil)
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("Compile(%q) = %v, want error containing %q", tc.src, err, tc.want)
		}
	}
}

func TestHTMLToText(t *testing.T) {
	tests := []struct{ in, want string }{
		{"<p>a</p><p>b</p>", "a b "},
		{"x<!-- c -->y", "xy"},
		{"a<style>p{}</style>b", "a b"},
		{"a<SCRIPT type=x>s()</script>b", "a b"},
		{"<![CDATA[<raw>]]>", "<raw>"},
		{`<a href="x>y">link</a>`, "link "},
		{"&lt;&gt;&amp;&#65;&#x42;&eacute;", "<>&ABé"},
		{"a & b", "a  b"},
		{"<p>a &amp; b&eacute;&#65;&nbsp;x</p><!-- c --><style>s</style>y &bogus; z &lt\r\n", "a & béA\u00a0x y  z lt\r\n"},
		{"<b>two</b>\r\n", "two \r\n"},
	}
	for _, tc := range tests {
		if got := htmlToText(tc.in); got != tc.want {
			t.Errorf("htmlToText(%q) = %q, want %q", tc.in, got, tc.want)
		}
	}
}

func TestDecodeTransfer(t *testing.T) {
	tests := []struct{ body, cte, cs, want string }{
		{"a=3Db=\r\nc\r\n", "quoted-printable", "", "a=bc\r\n"},
		{"bad =ZZ and =\r\n", "Quoted-Printable", "", "bad =ZZ and "},
		{"trailing   \r\n", "quoted-printable", "", "trailing\r\n"},
		{"aGVs\r\nbG8=\r\n", "base64", "", "hello"},
		{"aGVsbG8", "base64", "", "hello"},
		// Malformed base64 decodes as Dovecot's decoder does (checked
		// with sieve-test): spaces and line ends are skipped, and the
		// first other character outside the alphabet ends the data.
		{"aGVs bG8=", "base64", "", "hello"},
		{"aGVs\tbG8=", "base64", "", "hello"},
		{"!!!notbase64***", "base64", "", ""},
		{"*aGVsbG8=", "base64", "", ""},
		{"aGVs*bG8=", "base64", "", "hel"},
		{"aG-VsbG8=", "base64", "", "h"},
		{"aGVsbG*", "base64", "", "hell"},
		{"aGVsbA==aGk=", "base64", "", "hell"},
		{"aGV=sbG8", "base64", "", "he"},
		{"aGVsbG8=\r\n!!", "base64", "", "hello"},
		{"caf\xe9", "8bit", "ISO-8859-1", "café"},
		{"caf\xe9", "8bit", "", "caf\uFFFD"},
		{"caf\xe9", "", "no-such-charset", "caf\uFFFD"},
		{"x", "uuencode", "", ""},
	}
	for _, tc := range tests {
		if got := decodeBody([]byte(tc.body), tc.cte, tc.cs); got != tc.want {
			t.Errorf("decodeBody(%q, %q, %q) = %q, want %q", tc.body, tc.cte, tc.cs, got, tc.want)
		}
	}
}

func TestParseMIMEPartsOrder(t *testing.T) {
	parts := parseMIMEParts(ParseMessage([]byte(crlf(bodyNested))))
	var got []string
	for _, p := range parts {
		s := p.ctype
		if p.epilogue {
			s += "(epilogue)"
		}
		got = append(got, s)
	}
	want := []string{"multipart/mixed", "multipart/alternative", "text/plain", "text/html",
		"multipart/alternative(epilogue)", "message/rfc822", "text/plain", "application/octet-stream", "",
		"multipart/mixed(epilogue)"}
	if strings.Join(got, ",") != strings.Join(want, ",") {
		t.Errorf("parts = %q\nwant    %q", got, want)
	}
}

func BenchmarkBodyText(b *testing.B) {
	s, err := Compile("b", []byte(`require "body"; if body :text :contains "Köln" { discard; }`), nil)
	if err != nil {
		b.Fatal(err)
	}
	msg := ParseMessage([]byte(crlf(bodyNested)))
	b.ReportAllocs()
	for b.Loop() {
		if _, err := s.Run(context.Background(), &Env{Message: msg}); err != nil {
			b.Fatal(err)
		}
	}
}

func FuzzParseMIMEParts(f *testing.F) {
	for _, s := range []string{bodyNested, bodySimple, bodyHeaderOnly, bodyEmpty, bodyDigest} {
		f.Add([]byte(crlf(s)))
	}
	f.Fuzz(func(t *testing.T, raw []byte) {
		for _, p := range parseMIMEParts(ParseMessage(raw)) {
			if !utf8.ValidString(p.content) {
				t.Fatalf("part %q: content is not UTF-8", p.ctype)
			}
			_ = htmlToText(p.content)
		}
	})
}
