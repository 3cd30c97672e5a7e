package sieve

import "testing"

func TestEnvironmentTest(t *testing.T) {
	env := func() *Env {
		return &Env{Environment: map[string]string{"remote-ip": "192.0.2.7", "host": "mx.example.net", "name": "custom"}}
	}
	tests := []struct {
		test string
		want bool
	}{
		{`environment "remote-ip" "192.0.2.7"`, true},
		{`environment :matches "host" "*.example.net"`, true},
		{`environment "name" "custom"`, true}, // Env.Environment overrides defaults
		{`environment :contains "version" ""`, true},
		{`environment "location" "MDA"`, true},
		{`environment "phase" "during"`, true},
		{`environment :contains "domain" ""`, false}, // known but not set
		{`environment :contains "remote-host" ""`, false},
		{`environment :contains "nonsense" ""`, false},
		{`environment :count "eq" "nonsense" "0"`, false},
		{`environment :count "eq" "location" "1"`, true},
		{`environment :contains "REMOTE-IP" ""`, false}, // names are case-sensitive
	}
	for _, tc := range tests {
		src := "require [\"environment\", \"relational\", \"fileinto\"];\nif " + tc.test + " { fileinto \"yes\"; }"
		if got := sxYes(t, src, env()); got != tc.want {
			t.Errorf("%s = %v, want %v", tc.test, got, tc.want)
		}
	}
}
