package sieve

import (
	"slices"
	"testing"
)

func TestEnabledCapabilities(t *testing.T) {
	def := EnabledCapabilities(nil)
	if !slices.Contains(def, "vacation") || slices.Contains(def, "vacation-seconds") || slices.Contains(def, "comparator-i;octet") {
		t.Errorf("default capabilities %v", def)
	}
	more := EnabledCapabilities(&Options{Extensions: "+vacation-seconds -regex"})
	if !slices.Contains(more, "vacation-seconds") || slices.Contains(more, "regex") {
		t.Errorf("+vacation-seconds -regex: %v", more)
	}
	// Every announced capability can be required.
	for _, c := range more {
		if _, err := Compile("t", []byte(`require "`+c+`";`), &Options{Extensions: "+vacation-seconds -regex"}); err != nil {
			t.Errorf("announced %q does not compile: %v", c, err)
		}
	}
}

func TestCompileReport(t *testing.T) {
	for _, tc := range []struct{ src, want string }{
		{"keep;", ""},
		{"foo;", "validation failed"},
		{"if {", "parse failed"},
	} {
		_, got, _ := CompileReport("t", []byte(tc.src), nil)
		if got != tc.want {
			t.Errorf("%q: summary %q, want %q", tc.src, got, tc.want)
		}
	}
}
