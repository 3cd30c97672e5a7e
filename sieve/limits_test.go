package sieve

import (
	"context"
	"strings"
	"testing"
)

// A regular expression match whose estimated work exceeds
// sieve_max_cpu_time fails the run before it starts, instead of running
// for seconds.
func TestRegexCPULimit(t *testing.T) {
	src := `require ["regex", "variables"];
set "p" "^((A)|(AB)|(ABC)|(B)|(BC)|(C))+$";
if string :regex "${s}" "${p}" { keep; }`
	s, err := Compile("t", []byte(src), nil)
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name    string
		limit   string
		subject int
		fail    bool
	}{
		{"small subject", "2s", 100, false},
		{"huge subject", "2s", 20_000_000, true},
		{"huge subject, no limit", "0", 200_000, false},
	}
	for _, tc := range tests {
		run := func() error {
			r := s.newRun(context.Background(), &Env{Settings: Settings{"sieve_max_cpu_time": tc.limit}})
			r.vars["s"] = strings.Repeat("ABC", tc.subject/3)
			_, err := r.finish(r.exec(s.cmds))
			return err
		}
		err := run()
		if (err != nil) != tc.fail {
			t.Errorf("%s: error %v, want failure %v", tc.name, err, tc.fail)
		}
		if err != nil && !strings.Contains(err.Error(), "execution exceeded CPU time limit") {
			t.Errorf("%s: error %v", tc.name, err)
		}
	}
}
