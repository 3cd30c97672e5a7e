package sieve

import (
	"context"
	"testing"
)

// The set modifiers behave as Pigeonhole's (checked with sieve-test): the
// case modifiers change ASCII letters only.
func TestSetModifiers(t *testing.T) {
	tests := []struct{ set, want string }{
		{`set :upper "v" "héllo";`, "HéLLO"},
		{`set :lower "v" "ÉTÉ Ab";`, "ÉtÉ ab"},
		{`set :upperfirst "v" "été";`, "été"},
		{`set :upper :lowerfirst "v" "hELLO";`, "hELLO"},
		{`set :lowerfirst "v" "ABC";`, "aBC"},
		{`set :length "v" "héllo";`, "5"},
		{`set :quotewildcard "v" "a?b*c\\";`, `a\?b\*c\\`},
	}
	for _, tc := range tests {
		s, err := Compile("t", []byte(`require "variables"; `+tc.set), nil)
		if err != nil {
			t.Fatalf("%s: %v", tc.set, err)
		}
		r := s.newRun(context.Background(), &Env{})
		if err := r.exec(s.cmds); err != nil {
			t.Fatalf("%s: %v", tc.set, err)
		}
		if got := r.vars["v"]; got != tc.want {
			t.Errorf("%s: %q, want %q", tc.set, got, tc.want)
		}
	}
}
