package sieve

import (
	"context"
	"reflect"
	"strings"
	"testing"
)

// flagsTestRun compiles and runs src against a small message.
func flagsTestRun(t *testing.T, src string, env *Env) *Result {
	t.Helper()
	s, err := Compile("test", []byte(src), nil)
	if err != nil {
		t.Fatalf("compile: %v", err)
	}
	if env == nil {
		env = &Env{}
	}
	if env.Message == nil {
		env.Message = ParseMessage([]byte("From: a@example.com\r\nSubject: hi\r\n\r\nbody\r\n"))
	}
	res, err := s.Run(context.Background(), env)
	if err != nil {
		t.Fatalf("run: %v", err)
	}
	return res
}

func TestFlagOperations(t *testing.T) {
	tests := []struct {
		name, script string
		want         []string // internal flags at the end (implicit keep)
	}{
		{"set", `setflag "\\Seen $a";`, []string{`\Seen`, "$a"}},
		{"set replaces", `setflag "a"; setflag "b";`, []string{"b"}},
		{"add dedups case-insensitively", `addflag "a A b"; addflag ["B", "c"];`, []string{"a", "b", "c"}},
		{"invalid flags are skipped", `setflag "\\Recent \\Seen x(y ok";`, []string{`\Seen`, "ok"}},
		{"remove every occurrence", `setflag "a b c"; removeflag ["B", "x"];`, []string{"a", "c"}},
		{"extra spaces", `setflag "   a    b  ";`, []string{"a", "b"}},
		{"empty", `setflag "";`, []string{}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			res := flagsTestRun(t, `require "imap4flags"; `+tc.script, nil)
			if len(res.ImplicitFlags) == 0 && len(tc.want) == 0 {
				return
			}
			if !reflect.DeepEqual(res.ImplicitFlags, tc.want) {
				t.Errorf("flags = %q, want %q", res.ImplicitFlags, tc.want)
			}
		})
	}
}

func TestFlagVariables(t *testing.T) {
	res := flagsTestRun(t, `require ["imap4flags", "variables", "fileinto", "relational"];
setflag "v" "b a b";
addflag "v" "c";
removeflag "v" "a";
fileinto "${v}";
if hasflag "v" "C" { fileinto "has-c"; }
if hasflag :count "eq" "v" "2" { fileinto "count-2"; }
if hasflag "c" { fileinto "internal"; }
`, nil)
	var boxes []string
	for _, a := range res.Actions {
		boxes = append(boxes, a.(*FileInto).Mailbox)
	}
	want := []string{"b c", "has-c", "count-2"}
	if !reflect.DeepEqual(boxes, want) {
		t.Errorf("mailboxes = %q, want %q", boxes, want)
	}
}

func TestHasflag(t *testing.T) {
	tests := []struct {
		test string
		want bool
	}{
		{`hasflag "a"`, true},
		{`hasflag "x"`, false},
		{`hasflag :is "B a"`, true},
		{`hasflag ["x", "b"]`, true},
		{`hasflag ""`, false},
		{`hasflag :contains "un"`, true},
		{`hasflag :matches "j*k"`, true},
		{`hasflag :count "eq" :comparator "i;ascii-numeric" "3"`, true},
		{`hasflag :count "gt" :comparator "i;ascii-numeric" "3"`, false},
	}
	for _, tc := range tests {
		t.Run(tc.test, func(t *testing.T) {
			res := flagsTestRun(t, `require ["imap4flags", "relational", "comparator-i;ascii-numeric"];
setflag "a b junk";
if `+tc.test+` { discard; }`, nil)
			if got := !res.ImplicitKeep; got != tc.want {
				t.Errorf("%s = %v, want %v", tc.test, got, tc.want)
			}
		})
	}
}

func TestActionFlags(t *testing.T) {
	res := flagsTestRun(t, `require ["imap4flags", "fileinto"];
setflag "IMPLICIT";
fileinto :flags "\\Seen \\Draft" "Junk";
fileinto :flags "NONSENSE" "Junk";
keep;
keep :flags "\\Seen";
fileinto :flags "\\Seen" "Other";
fileinto "Other";
`, nil)
	got := map[string][]string{}
	for _, a := range res.Actions {
		switch a := a.(type) {
		case *Keep:
			got["INBOX"] = a.Flags
		case *FileInto:
			got[a.Mailbox] = a.Flags
		}
	}
	want := map[string][]string{"Junk": {"NONSENSE"}, "INBOX": {`\Seen`}, "Other": {"IMPLICIT"}}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("flags = %q, want %q (the last flag list wins)", got, want)
	}
}

func TestFlagErrors(t *testing.T) {
	tests := []struct{ script, want string }{
		{`require "imap4flags"; setflag "v" "a";`, "only allows for the specification of a variable name"},
		{`require ["imap4flags", "variables"]; setflag ["v", "w"] "a";`, "the first must be a string (variable name)"},
		{`require ["imap4flags", "variables"]; setflag "1x" "a";`, "invalid variable name '1x'"},
		{`require "imap4flags"; setflag;`, "setflag command"},
		{`require "imap4flags"; if hasflag 3 {}`, "hasflag test"},
		{`setflag "a";`, "unknown command 'setflag'"},
	}
	for _, tc := range tests {
		_, err := Compile("test", []byte(tc.script), nil)
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: error %v, want it to contain %q", tc.script, err, tc.want)
		}
	}
}

func TestValidFlag(t *testing.T) {
	for f, want := range map[string]bool{
		`\Seen`: true, `\ANSWERED`: true, `\Recent`: false, `\x`: false,
		"$Label1": true, "NonJunk": true, "": false, "a b": false, "a(": false,
		"a]": false, `a"`: false, "a*": false, "a%": false, "a{": false,
	} {
		if got := validFlag(f); got != want {
			t.Errorf("validFlag(%q) = %v, want %v", f, got, want)
		}
	}
}

func TestRunMultiFlags(t *testing.T) {
	compile := func(src string) *Script {
		s, err := Compile("s", []byte(src), nil)
		if err != nil {
			t.Fatal(err)
		}
		return s
	}
	scripts := []*Script{
		compile(`require "imap4flags"; setflag "$label1 \\answered";`),
		compile(`require ["fileinto", "mailbox"]; fileinto :create "folder";`),
	}
	res, err := RunMulti(context.Background(), scripts, &Env{Message: ParseMessage([]byte("Subject: x\r\n\r\nx\r\n"))})
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Actions) != 1 || res.ImplicitKeep {
		t.Fatalf("actions %v, implicit keep %v", res.Actions, res.ImplicitKeep)
	}
	f := res.Actions[0].(*FileInto)
	if want := []string{"$label1", `\answered`}; !reflect.DeepEqual(f.Flags, want) {
		t.Errorf("flags of the later script's fileinto = %q, want %q", f.Flags, want)
	}
}

func TestRunMultiConflicts(t *testing.T) {
	compile := func(src string) *Script {
		s, err := Compile("s", []byte(src), nil)
		if err != nil {
			t.Fatal(err)
		}
		return s
	}
	tests := []struct {
		name    string
		scripts []string
		want    []string // action kinds
	}{
		{"keep takes over a store into INBOX", []string{`require ["fileinto", "copy"]; fileinto :copy "INBOX";`, `keep;`}, []string{"keep"}},
		{"reject after an earlier store", []string{`require ["fileinto", "copy"]; fileinto :copy "x";`, `require "reject"; reject "no";`}, []string{"fileinto", "reject"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var scripts []*Script
			for _, src := range tc.scripts {
				scripts = append(scripts, compile(src))
			}
			res, err := RunMulti(context.Background(), scripts, &Env{Message: ParseMessage([]byte("Subject: x\r\n\r\nx\r\n"))})
			if err != nil {
				t.Fatal(err)
			}
			var got []string
			for _, a := range res.Actions {
				got = append(got, a.Kind())
			}
			if !reflect.DeepEqual(got, tc.want) {
				t.Errorf("actions = %q, want %q", got, tc.want)
			}
			if res.executed != 0 {
				t.Errorf("result marked executed (%d)", res.executed)
			}
		})
	}
}

func TestFlagWarnings(t *testing.T) {
	tests := []struct {
		src  string
		want string // "" for no warning
	}{
		{`require "imap4flags"; setflag "\\Seen $ok";`, ""},
		{`require "imap4flags"; addflag "a \\Recent b(";`, `IMAP flag '\Recent' specified for the addflag command is invalid`},
		{`require ["imap4flags", "variables"]; removeflag "v" "x]";`, "IMAP flag 'x]' specified for the removeflag command is invalid"},
		{`require "mailbox"; if mailboxexists "ok" {}`, ""},
		{`require ["mailbox", "encoded-character"]; if mailboxexists ["ok", "${hex:ff}x"] {}`, "mailboxexists test: invalid mailbox name '?x' specified"},
		{`require "include"; include "warn";`, "IMAP flag"},
	}
	for _, tc := range tests {
		s, err := Compile("t", []byte(tc.src), &Options{Resolver: mapResolver{"warn": `require "imap4flags"; setflag "(";`}})
		if err != nil {
			t.Errorf("%s: %v", tc.src, err)
			continue
		}
		w := s.Warnings()
		switch {
		case tc.want == "" && len(w) > 0:
			t.Errorf("%s: unexpected warnings %v", tc.src, w)
		case tc.want != "" && (len(w) != 1 || !strings.Contains(w[0].Msg, tc.want)):
			t.Errorf("%s: warnings %v, want %q", tc.src, w, tc.want)
		}
	}
}
