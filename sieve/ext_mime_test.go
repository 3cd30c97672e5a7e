package sieve

import (
	"context"
	"strings"
	"testing"
)

// mimeMsg has a multipart/alternative and an enclosed message inside a
// multipart/mixed: parts, depth first, are the message (multipart/mixed),
// text/plain, multipart/alternative, text/plain, text/html,
// message/rfc822, the enclosed image/png message and application/pdf.
const mimeMsg = `From: a@example.com
To: b@example.org
Subject: top
MIME-Version: 1.0
Content-Type: multipart/mixed; boundary="outer"

prologue
--outer
Content-Type: text/plain; charset=us-ascii

one
--outer
Content-Type: multipart/alternative; boundary="inner"

--inner
Content-Type: text/plain; charset="utf-8"

two
--inner
Content-Type: text/html

<p>three</p>
--inner--
--outer
Content-Type: message/rfc822

From: b@example.com
Content-Type: image/png; name="x.png"
Subject: enclosed

xx
--outer
Content-Type: application/pdf; name="doc.pdf"
Content-Disposition: attachment; filename="doc.pdf"

pdf
--outer--
epilogue
`

// mimeLastChild nests a multipart/alternative as the last child of a
// multipart/related that has a sibling after it.
const mimeLastChild = `From: a@example.com
Subject: quirk
Content-Type: multipart/mixed; boundary="m"

--m
Content-Type: multipart/related; boundary="r"

--r
Content-Type: multipart/alternative; boundary="a"

--a
Content-Type: text/plain

p
--a
Content-Type: text/html

h
--a--
--r--
--m
Content-Type: application/pdf

pdf
--m--
`

// mimeRun runs body (after a require and `set "n" "";`) and returns the
// variable n, which the script hands back through `fileinto "n${n}"`.
func mimeRun(t *testing.T, body, msg string) string {
	t.Helper()
	src := "require [\"foreverypart\", \"mime\", \"variables\", \"fileinto\", \"relational\", \"comparator-i;ascii-numeric\", \"extracttext\"];\n" +
		"set \"n\" \"\";\n" + body + "\nfileinto \"n${n}\";\n"
	s, err := Compile("t", []byte(src), nil)
	if err != nil {
		t.Fatalf("compile %q: %v", body, err)
	}
	res, err := s.Run(context.Background(), &Env{Message: ParseMessage([]byte(crlf(msg)))})
	if err != nil {
		t.Fatalf("run %q: %v", body, err)
	}
	for _, a := range res.Actions {
		if f, ok := a.(*FileInto); ok && strings.HasPrefix(f.Mailbox, "n") {
			return f.Mailbox[1:]
		}
	}
	t.Fatalf("run %q: no fileinto in %v", body, res.Actions)
	return ""
}

// TestForEveryPart checks part iteration, nesting, break, :anychild and
// the mime options. The expected values are what Pigeonhole's sieve-test
// (0.5) produces for the same scripts and messages.
func TestForEveryPart(t *testing.T) {
	tests := []struct {
		name, msg, body, want string
	}{
		{"order", mimeMsg,
			`foreverypart { if header :matches :mime :contenttype "content-type" "*" { set "n" "${n}/${1}"; } }`,
			"/multipart/mixed/text/plain/multipart/alternative/text/plain/text/html/message/rfc822/image/png/application/pdf"},
		{"single part", "From: a@example.com\nSubject: x\n\nbody\n",
			`foreverypart { set "n" "${n}x"; if header :matches :mime :contenttype "content-type" "*" { set "n" "${n}${1}"; } }`,
			"x"},
		{"nested", mimeMsg,
			`foreverypart { set "n" "${n}|"; foreverypart { if header :matches :mime :subtype "content-type" "*" { set "n" "${n}${1},"; } } }`,
			"|plain,alternative,plain,html,rfc822,png,pdf,||plain,html,|||png,||"},
		{"nested under a last child", mimeLastChild,
			`foreverypart { if header :matches :mime :subtype "content-type" "*" { set "n" "${n}|${1}:"; } foreverypart { if header :matches :mime :subtype "content-type" "*" { set "n" "${n}${1},"; } } }`,
			"|mixed:related,alternative,plain,html,pdf,|related:alternative,plain,html,|alternative:plain,html,pdf,|plain:|html:|pdf:"},
		{"break", mimeMsg,
			`foreverypart { if header :mime :subtype "content-type" "html" { break; } if header :matches :mime :subtype "content-type" "*" { set "n" "${n}/${1}"; } }`,
			"/mixed/plain/alternative/plain"},
		{"break named outer loop", mimeMsg,
			`foreverypart :name "outer" { set "n" "${n}|"; foreverypart { if header :mime :subtype "content-type" "html" { break :name "outer"; } if header :matches :mime :subtype "content-type" "*" { set "n" "${n}${1},"; } } set "n" "${n}!"; }`,
			"|plain,alternative,plain,"},
		{"break inner loop", mimeMsg,
			`foreverypart { set "n" "${n}|"; foreverypart { if header :mime :subtype "content-type" "plain" { break; } set "n" "${n}x"; } }`,
			"||||||x||"},
		{"stop", mimeMsg,
			`foreverypart { set "n" "${n}x"; if header :mime :subtype "content-type" "alternative" { fileinto "n${n}"; stop; } }`,
			"xxx"},
		{"anychild", mimeMsg,
			`if header :mime :anychild :type "content-type" "image" { set "n" "${n}A"; } if header :mime :type "content-type" "image" { set "n" "${n}B"; } foreverypart { if header :mime :anychild :subtype "content-type" "png" { set "n" "${n}1"; } else { set "n" "${n}0"; } }`,
			"A10001110"},
		{"anychild of a last child", mimeLastChild,
			`foreverypart { if header :matches :mime :subtype "content-type" "*" { set "n" "${n}|${1}:"; } if header :mime :anychild :subtype "content-type" "pdf" { set "n" "${n}Y"; } }`,
			"|mixed:Y|related:|alternative:Y|plain:|html:Y|pdf:Y"},
		{"anychild count", mimeMsg,
			`if header :mime :anychild :count "eq" :comparator "i;ascii-numeric" "content-type" "8" { set "n" "8"; }`,
			"8"},
		{"param", mimeMsg,
			`foreverypart { if header :matches :mime :param ["name", "charset", "boundary"] "content-type" "*" { set "n" "${n}/${1}"; } }`,
			"/outer/us-ascii/inner/utf-8///x.png/doc.pdf"},
		{"content-disposition", mimeMsg,
			`foreverypart { if exists :mime "content-disposition" { set "n" "${n}E"; } if header :matches :mime :contenttype "content-disposition" "*" { set "n" "${n}/${1}"; } if header :matches :mime :param "filename" "content-disposition" "*" { set "n" "${n}:${1}"; } }`,
			"E/attachment:doc.pdf"},
		{"other fields yield empty", mimeMsg,
			`if header :mime :type "subject" "" { set "n" "empty"; }`,
			"empty"},
		{"without :mime the message header", mimeMsg,
			`foreverypart { if header :matches "subject" "*" { set "n" "${n}/${1}"; } if header :matches :mime "subject" "*" { set "n" "${n}+${1}"; } }`,
			"/top+top/top/top/top/top/top/top+enclosed/top"},
		{"extracttext", mimeMsg,
			`foreverypart { extracttext "t"; set "n" "${n}|${t}"; }`,
			"||one||two|three ||xx|pdf"},
		{"extracttext :first and modifiers", mimeMsg,
			`foreverypart { extracttext :first 2 :upper "t"; set "n" "${n}|${t}"; }`,
			"||ON||TW|TH||XX|PD"},
		{"extracttext :length", mimeMsg,
			`foreverypart { extracttext :length "t"; set "n" "${n}|${t}"; }`,
			"|0|3|0|3|6|0|2|3"},
		{"address", mimeMsg,
			`foreverypart { if address :mime :localpart "from" "a" { set "n" "${n}a"; } if address :mime :anychild :localpart "from" "b" { set "n" "${n}b"; } }`,
			"abbbb"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if got := mimeRun(t, tc.body, tc.msg); got != tc.want {
				t.Errorf("got %q, want %q", got, tc.want)
			}
		})
	}
}

// TestMimeCompileErrors checks the validation errors, worded as
// Pigeonhole's sievec words them.
func TestMimeCompileErrors(t *testing.T) {
	tests := []struct{ src, want string }{
		{`require "foreverypart"; break;`,
			"the break command is not placed inside a foreverypart loop"},
		{`require "foreverypart"; foreverypart :name "a" { break :name "b"; }`,
			"the break command is not placed inside a foreverypart loop named 'b'"},
		{`require "foreverypart"; foreverypart :name "a" { foreverypart { break :name "a"; } } break;`,
			"1:86: the break command is not placed inside a foreverypart loop"},
		{`require "mime"; if header :type "content-type" "x" {}`,
			"the :type tag for the header test cannot be specified without the :mime tag"},
		{`require "mime"; if exists :anychild "x" {}`,
			"the :anychild tag for the exists test cannot be specified without the :mime tag"},
		{`require "mime"; if header :mime :type :subtype "content-type" "x" {}`,
			"the :type, :subtype, :contenttype, and :param arguments for the header test are mutually exclusive, but more than one was specified"},
		{`require "foreverypart"; foreverypart { foreverypart { foreverypart { foreverypart { foreverypart { keep; } } } } }`,
			"the nested foreverypart loop exceeds the nesting limit (<= 4 levels)"},
		{`require "mime"; if exists :mime :type "x" {}`,
			"unknown tagged argument ':type' for the exists test"},
		{`require "mime"; if address :mime :param "x" "from" "x" {}`,
			"unknown tagged argument ':param' for the address test"},
		{`if header :mime "subject" "x" {}`,
			"unknown tagged argument ':mime' for the header test"},
		{`require ["extracttext", "foreverypart"]; keep;`,
			"1:10: extracttext extension cannot be used without variables extension"},
		{`require ["extracttext", "variables"]; keep;`,
			"extracttext extension cannot be used without foreverypart extension"},
		{`require ["extracttext", "variables", "foreverypart"]; extracttext "x";`,
			"the extracttext command is not placed inside a foreverypart loop"},
		{`require ["variables", "foreverypart", "extracttext"]; foreverypart { extracttext "a.b"; }`,
			"referring to variable in unknown namespace 'a'"},
		{`foreverypart { keep; }`,
			"unknown command 'foreverypart'"},
	}
	for _, tc := range tests {
		_, err := Compile("t", []byte(tc.src), nil)
		if err == nil {
			t.Errorf("%s: compiled, want error %q", tc.src, tc.want)
			continue
		}
		if !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s:\n got %v\nwant %q", tc.src, err, tc.want)
		}
	}
}

// TestMimePartsTree checks the sibling links the parser records.
func TestMimePartsTree(t *testing.T) {
	parts := parseMIMEParts(ParseMessage([]byte(crlf(mimeMsg))))
	var got []string
	for i, p := range parts {
		if p.epilogue {
			continue
		}
		got = append(got, p.ctype+"@"+itoa(i)+">"+itoa(subtreeEnd(parts, i)))
	}
	// The outer epilogue is item 8; a last child's subtree runs to the
	// end of the list.
	want := "multipart/mixed@0>9 text/plain@1>2 multipart/alternative@2>5 text/plain@3>4 text/html@4>9 " +
		"message/rfc822@5>7 image/png@6>9 application/pdf@7>9"
	if strings.Join(got, " ") != want {
		t.Errorf("parts:\n got %s\nwant %s", strings.Join(got, " "), want)
	}
}
