package sieve

import (
	"context"
	"errors"
	"strings"
	"testing"
)

// mapResolver serves included scripts from memory; names starting with
// "g:" are global.
type mapResolver map[string]string

func (m mapResolver) Resolve(loc Location, name string) ([]byte, error) {
	key := name
	if loc == Global {
		key = "g:" + name
	}
	src, ok := m[key]
	if !ok {
		src, ok = m[strings.TrimSuffix(key, ".sieve")]
	}
	if !ok {
		if key == "broken" {
			return nil, errors.New("disk on fire")
		}
		return nil, ErrScriptNotFound
	}
	return []byte(src), nil
}

var includeScripts = mapResolver{
	"add-one":  `require ["include", "variables"]; global "r"; set "r" "${r}1";`,
	"add-two":  `require ["include", "variables"]; global "r"; set "r" "${r}2"; include "add-one";`,
	"once-one": `require ["include", "variables"]; global "r"; set "r" "${r}O"; include :once "add-one";`,
	"ret":      `require ["include", "variables"]; global "r"; set "r" "${r}R"; return; set "r" "${r}X";`,
	"stop":     `require ["include", "variables"]; global "r"; set "r" "${r}S"; stop;`,
	"file":     `require "fileinto"; fileinto "sub";`,
	"local":    `require "variables"; set "r" "local";`,
	"ns":       `require ["include", "variables"]; set "global.r" "${global.r}P";`,
	"g:ns":     `require ["include", "variables"]; set "global.r" "${global.r}G";`,
	"self":     `require "include"; include "self";`,
	"a":        `require "include"; include "b";`,
	"b":        `require "include"; include "a.sieve";`,
	"d1":       `require "include"; include "d2";`,
	"d2":       `require "include"; include "d3";`,
	"d3":       `keep;`,
	"bad":      `require "include"; frobnicate;`,
}

func includeRun(t *testing.T, src string) (*Result, string) {
	t.Helper()
	s, err := Compile("main", []byte(src), &Options{Resolver: includeScripts})
	if err != nil {
		t.Fatalf("compile: %v", err)
	}
	res, err := s.Run(context.Background(), &Env{Message: ParseMessage([]byte("Subject: x\r\n\r\nx\r\n"))})
	if err != nil {
		t.Fatalf("run: %v", err)
	}
	// The value of the global "r" is filed into a mailbox by the script.
	for _, a := range res.Actions {
		if f, ok := a.(*FileInto); ok && strings.HasPrefix(f.Mailbox, "r=") {
			return res, f.Mailbox[2:]
		}
	}
	return res, ""
}

func TestIncludeRun(t *testing.T) {
	tests := []struct{ name, body, want string }{
		{"twice", `include "add-one"; include "add-two";`, "121"},
		{"once", `include "add-one"; include "once-one";`, "1O"},
		{"once first", `include "once-one"; include :once "once-one";`, "O1"},
		{"return", `include "ret"; set "r" "${r}M";`, "RM"},
		{"optional missing", `include :optional "nope"; set "r" "${r}M";`, "M"},
		{"locals stay local", `set "r2" "m"; include "local"; set "r" "${r2}";`, "m"},
		{"namespaces", `include :personal "ns"; include :global "ns";`, "PG"},
		{"global namespace", `set "global.r" "x"; include "add-one";`, "x1"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			src := `require ["include", "variables", "fileinto"]; global "r"; set "r" ""; ` + tc.body + `
fileinto "r=${r}";`
			_, got := includeRun(t, src)
			if got != tc.want {
				t.Errorf("r = %q, want %q", got, tc.want)
			}
		})
	}
}

func TestIncludeStop(t *testing.T) {
	res, _ := includeRun(t, `require ["include", "variables", "fileinto"]; global "r"; include "stop"; fileinto "r=${r}";`)
	if len(res.Actions) != 0 || !res.ImplicitKeep {
		t.Errorf("stop in an included script did not end the run: %v", res.Actions)
	}
}

func TestIncludeActions(t *testing.T) {
	res, _ := includeRun(t, `require "include"; include "file"; include "file";`)
	if len(res.Actions) != 1 || res.Actions[0].(*FileInto).Mailbox != "sub" || res.ImplicitKeep {
		t.Errorf("actions = %v, keep %v", res.Actions, res.ImplicitKeep)
	}
}

func TestIncludeErrors(t *testing.T) {
	tests := []struct {
		src      string
		settings Settings
		want     []string
	}{
		{`include "nope";`, nil, []string{"included personal script 'nope' does not exist"}},
		{`include :global "add-one";`, nil, []string{"included global script 'add-one' does not exist"}},
		{`include "../x";`, nil, []string{"include: invalid script name '../x'"}},
		{`include "broken";`, nil, []string{"failed to access included personal script 'broken'"}},
		{`include :personal :global "x";`, nil, []string{"include: cannot use location tags ':personal' and ':global' multiple times"}},
		{`include "self";`, nil, []string{"circular include", "failed to generate code for included script 'self'"}},
		{`include "a";`, nil, []string{"circular include", "failed to generate code for included script 'b'", "failed to generate code for included script 'a'"}},
		{`include "d1";`, Settings{"sieve_include_max_nesting_depth": "2"}, []string{
			"cannot nest includes deeper than 2 levels",
			"failed to generate code for included script 'd2'", "failed to generate code for included script 'd1'"}},
		{`include "d3"; include "add-one"; include "file";`, Settings{"sieve_include_max_includes": "2"}, []string{
			"failed to include script 'file': no more than 2 includes allowed"}},
		{`include "bad";`, nil, []string{"unknown command 'frobnicate'", "failed to validate included script 'bad'"}},
		{`global "x";`, nil, []string{"global command requires that variables extension is active"}},
	}
	for _, tc := range tests {
		_, err := Compile("main", []byte(`require "include"; `+tc.src), &Options{Resolver: includeScripts, Settings: tc.settings})
		var el ErrorList
		if !errors.As(err, &el) {
			t.Errorf("%s: error %v, want %q", tc.src, err, tc.want)
			continue
		}
		if len(el) != len(tc.want) {
			t.Errorf("%s: %d errors (%v), want %d", tc.src, len(el), el, len(tc.want))
			continue
		}
		for i, w := range tc.want {
			if !strings.Contains(el[i].Msg, w) {
				t.Errorf("%s: error %d = %q, want %q", tc.src, i, el[i].Msg, w)
			}
		}
	}
}

func TestGlobalErrors(t *testing.T) {
	tests := []struct{ src, want string }{
		{`set "x" "1"; global "x";`, "declaration of new global variable 'x' conflicts with earlier local use"},
		{`global "1x";`, "invalid variable identifier '1x'"},
		{`set "global.a.b" "1";`, "encountered sub-namespace"},
		{`set "global.12" "1";`, "encountered numeric variable name"},
	}
	for _, tc := range tests {
		_, err := Compile("main", []byte(`require ["include", "variables"]; `+tc.src), nil)
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: error %v, want %q", tc.src, err, tc.want)
		}
	}
	if _, err := Compile("main", []byte(`require ["include", "variables"]; global "x"; global "x"; set "x" "1"; set "global.y" "2";`), nil); err != nil {
		t.Errorf("valid globals: %v", err)
	}
}

func TestValidScriptName(t *testing.T) {
	for name, want := range map[string]bool{
		"default": true, "with space": true, "ünïcode": true, "": false, "a/b": false,
		"a\x01": false, "a\x7f": false, "a\u0085": false, "a\u2028": false, "a\u2029": false,
		"a\xff": false, strings.Repeat("x", 257): false,
	} {
		if got := validScriptName(name); got != want {
			t.Errorf("validScriptName(%q) = %v, want %v", name, got, want)
		}
	}
}

func TestIncludeConcurrentRuns(t *testing.T) {
	s, err := Compile("main", []byte(`require ["include", "variables", "fileinto"]; global "r";
include "add-two"; include "once-one"; fileinto "r=${r}";`), &Options{Resolver: includeScripts})
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan string)
	for i := 0; i < 8; i++ {
		go func() {
			res, err := s.Run(context.Background(), &Env{})
			if err != nil {
				done <- err.Error()
				return
			}
			done <- res.Actions[0].(*FileInto).Mailbox
		}()
	}
	for i := 0; i < 8; i++ {
		if got := <-done; got != "r=21O" {
			t.Errorf("run %d: %s, want r=21O", i, got)
		}
	}
}
