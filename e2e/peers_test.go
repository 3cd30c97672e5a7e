//go:build e2e

package e2e

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/vacationd/vacationd/internal/peertest"
)

// swaks runs swaks and returns its transcript; err is its exit status.
func swaks(t *testing.T, args ...string) (string, error) {
	t.Helper()
	return peertest.RunCmd(t, commandTimeout, peertest.Tool(t, "swaks", "swaks"), args...)
}

// writeFile writes b into a fresh file and returns its path.
func writeFile(t *testing.T, name string, b []byte) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), name)
	if err := os.WriteFile(p, b, 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}
