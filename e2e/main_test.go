//go:build e2e

package e2e

import (
	"bytes"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"testing"
)

// binary is the vacationd executable under test, built by TestMain.
var binary string

// hasServe is false when the binary has no serve subcommand.
var hasServe bool

func TestMain(m *testing.M) {
	os.Exit(run(m))
}

func run(m *testing.M) int {
	binary = os.Getenv("VACATIOND_E2E_BIN")
	if binary == "" {
		dir, err := os.MkdirTemp("", "vacationd-e2e-bin-")
		if err != nil {
			fmt.Fprintln(os.Stderr, "e2e:", err)
			return 1
		}
		defer os.RemoveAll(dir)
		binary = filepath.Join(dir, "vacationd")
		if err := build(binary); err != nil {
			fmt.Fprintln(os.Stderr, "e2e: build vacationd:", err)
			return 1
		}
	}
	out, _ := exec.Command(binary, "serve", "-h").CombinedOutput()
	hasServe = bytes.Contains(out, []byte("-lmtp"))
	return m.Run()
}

// build compiles ./cmd/vacationd of the module this package lives in.
func build(out string) error {
	goBin, err := exec.LookPath("go")
	if err != nil {
		goBin = filepath.Join(runtime.GOROOT(), "bin", "go")
	}
	cmd := exec.Command(goBin, "build", "-o", out, "./cmd/vacationd")
	cmd.Dir = ".."
	cmd.Stdout, cmd.Stderr = os.Stderr, os.Stderr
	return cmd.Run()
}
