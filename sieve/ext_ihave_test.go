package sieve

import (
	"strings"
	"testing"
)

func TestIhave(t *testing.T) {
	tests := []struct {
		name, src string
		want      bool   // the fileinto "yes" runs
		compile   string // expected compile error, "" for none
	}{
		{"known", `require ["ihave", "fileinto"]; if ihave "date" { if currentdate :matches "year" "*" { fileinto "yes"; } }`, true, ""},
		{"known list", `require ["ihave", "fileinto"]; if ihave ["date", "relational"] { fileinto "yes"; }`, true, ""},
		{"loads for the block", `require "ihave"; if ihave "fileinto" { fileinto "yes"; }`, true, ""},
		{"unknown skips block", `require ["ihave", "fileinto"]; if ihave "x-nonsense" { nonsense "Frop"; } else { fileinto "yes"; }`, true, ""},
		{"unknown in list", `require ["ihave", "fileinto"]; if ihave ["date", "x-nonsense"] { nonsense; fileinto "yes"; }`, false, ""},
		{"allof folds", `require ["ihave", "fileinto"]; if allof(true, ihave "x-nonsense") { nonsense; } fileinto "yes";`, true, ""},
		{"anyof folds", `require ["ihave", "fileinto"]; if anyof(ihave "x-a", ihave "x-b") { nonsense; } fileinto "yes";`, true, ""},
		{"anyof not constant", `require ["ihave", "fileinto"]; if anyof(true, ihave "x-b") { nonsense; }`, false, "unknown command 'nonsense'"},
		{"variables refused", `require ["ihave", "fileinto"]; if ihave "variables" { fileinto "no"; } else { fileinto "yes"; }`, true, ""},
		{"encoded-character refused", `require ["ihave", "fileinto"]; if not ihave "encoded-character" { fileinto "yes"; }`, true, ""},
		{"disabled is unknown", `require ["ihave", "fileinto"]; if ihave "vnd.dovecot.testsuite" { test_fail "x"; } else { fileinto "yes"; }`, true, ""},
		{"elsif still checked", `require ["ihave"]; if ihave "x-a" { nonsense; } elsif true { bogus; }`, false, "unknown command 'bogus'"},
		{"without ihave", `if ihave "date" { }`, false, "unknown test 'ihave'"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if tc.compile != "" {
				_, err := Compile("t", []byte(tc.src), nil)
				if err == nil || !strings.Contains(err.Error(), tc.compile) {
					t.Fatalf("compile error %v, want %q", err, tc.compile)
				}
				return
			}
			if got := sxYes(t, tc.src, &Env{}); got != tc.want {
				t.Errorf("got %v, want %v", got, tc.want)
			}
		})
	}
}

func TestErrorCommand(t *testing.T) {
	res, err := sxRun(t, `require ["ihave", "fileinto"]; fileinto "a"; error "Something failed.";`, &Env{})
	if err == nil || !strings.Contains(err.Error(), "Something failed.") {
		t.Fatalf("error = %v, want the script's message", err)
	}
	if !res.ImplicitKeep {
		t.Errorf("a failed script must keep the message")
	}
}
