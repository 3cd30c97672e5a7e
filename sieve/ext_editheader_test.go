package sieve

import (
	"context"
	"strings"
	"testing"
)

const ehMessage = `Received: from x by y
X-A: one
Subject: Frop!
X-A: =?utf-8?q?tw=C3=B6?=
X-B: three
X-A:   three
 folded

Body.
`

// ehRun compiles src with editheader enabled and runs it against msg.
func ehRun(t *testing.T, src, msg string, settings Settings) (*Result, error) {
	t.Helper()
	s, err := Compile("t", []byte(src), &Options{Extensions: "+editheader", Settings: settings})
	if err != nil {
		t.Fatalf("compile %q: %v", src, err)
	}
	return s.Run(context.Background(), &Env{Message: ParseMessage([]byte(crlf(msg))), Settings: settings})
}

// ehHeader renders the header of m as "Name:Value" lines joined by "|".
func ehHeader(m *Message) string {
	var out []string
	for _, f := range m.Fields {
		out = append(out, f.Name+":"+f.Value)
	}
	return strings.Join(out, "|")
}

func TestEditheader(t *testing.T) {
	tests := []struct {
		name     string
		src      string
		settings Settings
		want     string
	}{
		{"addheader first", `addheader "x-new-HEADER" "v";`, nil,
			"X-New-Header: v|Received: from x by y|X-A: one|Subject: Frop!|X-A: =?utf-8?q?tw=C3=B6?=|X-B: three|X-A:   three\r\n folded"},
		{"addheader last", `addheader :last "X-N" "v";`, nil,
			"Received: from x by y|X-A: one|Subject: Frop!|X-A: =?utf-8?q?tw=C3=B6?=|X-B: three|X-A:   three\r\n folded|X-N: v"},
		{"deleteheader all", `deleteheader "x-a";`, nil,
			"Received: from x by y|Subject: Frop!|X-B: three"},
		{"deleteheader index", `deleteheader :index 2 "X-A";`, nil,
			"Received: from x by y|X-A: one|Subject: Frop!|X-B: three|X-A:   three\r\n folded"},
		{"deleteheader index last", `deleteheader :index 1 :last "X-A";`, nil,
			"Received: from x by y|X-A: one|Subject: Frop!|X-A: =?utf-8?q?tw=C3=B6?=|X-B: three"},
		{"deleteheader index beyond", `deleteheader :index 4 "X-A";`, nil,
			"Received: from x by y|X-A: one|Subject: Frop!|X-A: =?utf-8?q?tw=C3=B6?=|X-B: three|X-A:   three\r\n folded"},
		{"deleteheader decoded value", `deleteheader "X-A" "twö";`, nil,
			"Received: from x by y|X-A: one|Subject: Frop!|X-B: three|X-A:   three\r\n folded"},
		{"deleteheader unfolded trimmed value", `deleteheader :is "X-A" ["three folded", "nope"];`, nil,
			"Received: from x by y|X-A: one|Subject: Frop!|X-A: =?utf-8?q?tw=C3=B6?=|X-B: three"},
		{"deleteheader contains", `deleteheader :contains "X-A" "e";`, nil,
			"Received: from x by y|Subject: Frop!|X-A: =?utf-8?q?tw=C3=B6?=|X-B: three"},
		{"deleteheader index with pattern not matching", `deleteheader :index 1 "X-A" "three*";`, nil,
			"Received: from x by y|X-A: one|Subject: Frop!|X-A: =?utf-8?q?tw=C3=B6?=|X-B: three|X-A:   three\r\n folded"},
		{"received protected", `deleteheader "received";`, nil,
			"Received: from x by y|X-A: one|Subject: Frop!|X-A: =?utf-8?q?tw=C3=B6?=|X-B: three|X-A:   three\r\n folded"},
		{"subject never protected", `deleteheader "subject"; addheader "Subject" "new";`,
			Settings{"sieve_editheader_protected": "subject"},
			"Subject: new|Received: from x by y|X-A: one|X-A: =?utf-8?q?tw=C3=B6?=|X-B: three|X-A:   three\r\n folded"},
		{"protected list", `deleteheader "x-b"; addheader "X-B" "no";`,
			Settings{"sieve_editheader_protected": "X-B"},
			"Received: from x by y|X-A: one|Subject: Frop!|X-A: =?utf-8?q?tw=C3=B6?=|X-B: three|X-A:   three\r\n folded"},
		{"configured forbid_delete only", `deleteheader "x-b"; addheader "X-B" "yes";`,
			Settings{"sieve_editheader_header": "x-b", "sieve_editheader_header/x-b/forbid_delete": "yes"},
			"X-B: yes|Received: from x by y|X-A: one|Subject: Frop!|X-A: =?utf-8?q?tw=C3=B6?=|X-B: three|X-A:   three\r\n folded"},
		{"configured forbid_add only", `deleteheader "x-b"; addheader "X-B" "no";`,
			Settings{"sieve_editheader_header": "X-B", "sieve_editheader_header/X-B/forbid_add": "yes"},
			"Received: from x by y|X-A: one|Subject: Frop!|X-A: =?utf-8?q?tw=C3=B6?=|X-A:   three\r\n folded"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			res, err := ehRun(t, `require "editheader"; `+tc.src, ehMessage, tc.settings)
			if err != nil {
				t.Fatal(err)
			}
			if got := ehHeader(res.Message); got != tc.want {
				t.Errorf("header\n got %q\nwant %q", got, tc.want)
			}
			if !strings.HasSuffix(string(res.Message.Raw()), "\r\n\r\nBody.\r\n") {
				t.Errorf("body lost: %q", res.Message.Raw())
			}
			if res.Message.Size != len(res.Message.Raw()) {
				t.Errorf("Size = %d, raw is %d octets", res.Message.Size, len(res.Message.Raw()))
			}
		})
	}
}

func TestEditheaderLaterTestsSeeEdits(t *testing.T) {
	src := `require ["editheader", "body"];
addheader "X-Frop" "frop";
if not header :is "x-frop" "frop" { stop; }
deleteheader "x-frop";
if exists "x-frop" { stop; }
if not body :raw :contains "Body." { stop; }
discard;`
	res, err := ehRun(t, src, ehMessage, nil)
	if err != nil {
		t.Fatal(err)
	}
	if res.ImplicitKeep {
		t.Error("a test did not see the edited message")
	}
}

func TestEditheaderActionSnapshots(t *testing.T) {
	src := `require ["editheader", "fileinto"];
addheader "X-One" "1";
redirect "a@example.com";
deleteheader "X-One";
addheader "X-Two" "2";
fileinto "Box";
addheader "X-Three" "3";`
	res, err := ehRun(t, src, ehMessage, nil)
	if err != nil {
		t.Fatal(err)
	}
	rd := res.Actions[0].(*Redirect).Message
	fi := res.Actions[1].(*FileInto).Message
	for _, c := range []struct {
		m          *Message
		name, want string
	}{
		{rd, "x-one", "1"}, {rd, "x-two", ""}, {fi, "x-one", ""}, {fi, "x-two", "2"}, {fi, "x-three", ""},
		{res.Message, "x-three", "3"},
	} {
		if got := strings.Join(c.m.Header(c.name), ","); got != c.want {
			t.Errorf("%s = %q, want %q", c.name, got, c.want)
		}
	}
}

func TestEditheaderFailedRunKeepsOriginal(t *testing.T) {
	res, err := ehRun(t, `require ["editheader", "variables"]; addheader "X-A" "1"; set "n" "bad:"; addheader "${n}" "v";`, ehMessage, nil)
	if err == nil || !strings.Contains(err.Error(), "addheader action: specified field name 'bad:' is invalid") {
		t.Fatalf("err = %v", err)
	}
	if !res.ImplicitKeep || len(res.Message.Header("X-A")) != 3 {
		t.Errorf("implicit keep %v with message %q, want the original", res.ImplicitKeep, ehHeader(res.Message))
	}
}

func TestEditheaderRuntimeErrors(t *testing.T) {
	big := strings.Repeat("A", 1500)
	tests := []struct {
		src      string
		settings Settings
		want     string
	}{
		{`set "v" "` + big + `"; addheader "X" "${v}";`, Settings{"sieve_editheader_max_header_size": "1024"}, "is too large (1500 bytes)"},
		{`set "v" "a${hex:00}b"; addheader "X" "${v}";`, nil, "(contains NUL character)"},
		{`set "n" "a b"; deleteheader "${n}";`, nil, "deleteheader action: specified field name 'a b' is invalid"},
	}
	for _, tc := range tests {
		_, err := ehRun(t, `require ["editheader", "variables", "encoded-character"]; `+tc.src, ehMessage, tc.settings)
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: err = %v, want %q", tc.src, err, tc.want)
		}
	}
	// The default limit (2048) allows it.
	if _, err := ehRun(t, `require ["editheader", "variables"]; set "v" "`+big+`"; addheader "X" "${v}";`, ehMessage, nil); err != nil {
		t.Errorf("1500 octets with the default limit: %v", err)
	}
}

func TestEditheaderCompileErrors(t *testing.T) {
	tests := []struct {
		src, want string
	}{
		{`addheader "X:" "v";`, "addheader command: specified field name 'X:' is invalid"},
		{`addheader "X" "a` + "\x07" + `b";`, "addheader command: specified value 'a?b' is invalid"},
		{`addheader "X" "` + strings.Repeat("A", 2049) + `";`, "is too large (2049 bytes)"},
		{`deleteheader :last "X";`, "the :last tag for the deleteheader command cannot be specified without the :index tag"},
		{`deleteheader "X Y";`, "deleteheader command: specified field name 'X Y' is invalid"},
		{`deleteheader :index "1" "X";`, "requires a number as parameter"},
	}
	for _, tc := range tests {
		_, err := Compile("t", []byte(`require "editheader"; `+tc.src), &Options{Extensions: "+editheader"})
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("Compile(%q) = %v, want %q", tc.src, err, tc.want)
		}
	}
	if _, err := Compile("t", []byte(`require "editheader";`), nil); err == nil {
		t.Error("editheader is enabled by default; Pigeonhole has it off")
	}
}

func TestEditheaderCompileWarnings(t *testing.T) {
	src := `require "editheader"; deleteheader "Received"; addheader "X-Sieve-Redirected-From" "x"; addheader "X-Ok" "y"; deleteheader "Subject";`
	s, err := Compile("t", []byte(src), &Options{Extensions: "+editheader"})
	if err != nil {
		t.Fatal(err)
	}
	w := s.Warnings()
	if len(w) != 2 || !strings.Contains(w[0].Msg, "deleting specified header field 'Received' is forbidden") ||
		!strings.Contains(w[1].Msg, "adding specified header field 'X-Sieve-Redirected-From' is forbidden") {
		t.Errorf("warnings = %v", w)
	}
}

func TestEncodeAndFoldHeaderValue(t *testing.T) {
	tests := []struct {
		in      string
		wantRaw string // "" to skip the exact check
		back    string // what a header test reads back
	}{
		{"plain", "plain", "plain"},
		{"Ein unerhört großer Test", "Ein =?utf-8?q?unerh=C3=B6rt_gro=C3=9Fer?= Test", "Ein unerhört großer Test"},
		{"Это тест!", "", "Это тест!"},
		{"line one\r\n  line two\r\n", "line one\r\n line two", "line one line two"},
		{"bell\x07", "", "bell\x07"},
		{strings.Repeat("word ", 40), "", strings.TrimSpace(strings.Repeat("word ", 40))},
		{strings.Repeat("ö", 100), "", strings.Repeat("ö", 100)},
	}
	for _, tc := range tests {
		raw := foldHeaderValue(len("X-Test"), encodeHeaderValue(tc.in))
		if tc.wantRaw != "" && raw != tc.wantRaw {
			t.Errorf("raw(%q) = %q, want %q", tc.in, raw, tc.wantRaw)
		}
		for i, line := range strings.Split("X-Test: "+raw, "\r\n") {
			if len(line) > maxHeaderLine && strings.ContainsAny(strings.TrimLeft(line, " "), " \t") {
				t.Errorf("line %d of %q is %d long but could be folded", i, tc.in, len(line))
			}
			if i > 0 && (line == "" || (line[0] != ' ' && line[0] != '\t')) {
				t.Errorf("line %d of %q is not a continuation: %q", i, tc.in, line)
			}
		}
		m := ParseMessage([]byte("X-Test: " + raw + "\r\n\r\n"))
		if got := m.HeaderDecoded("x-test"); len(got) != 1 || got[0] != tc.back {
			t.Errorf("read back %q as %q, want %q", tc.in, got, tc.back)
		}
	}
}
