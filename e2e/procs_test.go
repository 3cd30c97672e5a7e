//go:build e2e

package e2e

import (
	"testing"
	"time"
)

// Bounds for the polling waits. They are generous because CI machines are
// slow; a passing test never waits for them to run out.
const (
	startTimeout   = 15 * time.Second
	arriveTimeout  = 20 * time.Second
	stopTimeout    = 20 * time.Second
	commandTimeout = 30 * time.Second

	// haproxyClientTimeout is HAProxy's "timeout client" in these tests.
	haproxyClientTimeout = 2 * time.Second
)

// needServe skips when the binary has no serve subcommand yet.
func needServe(t *testing.T) {
	t.Helper()
	if !hasServe {
		t.Skip("vacationd has no serve subcommand in this build; skipping")
	}
}
