package svtest_test

import (
	"context"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/vacationd/vacationd/svtest"
)

// suiteDir is Pigeonhole's test suite, shared next to the repository.
const suiteDir = "../../shared/conformance/pigeonhole/tests"

// floorFile records the number of test blocks known to pass; the suite
// may never fall below it. Raise it as conformance improves.
const floorFile = "../testdata/svtest-floor.txt"

// TestConformance runs Pigeonhole's whole test suite and fails when fewer
// test blocks pass than the recorded floor.
func TestConformance(t *testing.T) {
	if _, err := os.Stat(suiteDir); err != nil {
		t.Skipf("Pigeonhole test suite not found at %s (it lives in ../shared next to the repository): %v", suiteDir, err)
	}
	raw, err := os.ReadFile(floorFile)
	if err != nil {
		t.Fatalf("read floor: %v", err)
	}
	floor, err := strconv.Atoi(strings.TrimSpace(string(raw)))
	if err != nil {
		t.Fatalf("floor %s: %v", floorFile, err)
	}
	files, err := svtest.Files([]string{suiteDir})
	if err != nil {
		t.Fatal(err)
	}
	sum, err := svtest.Run(context.Background(), files, svtest.Config{Vacation: svtest.ComposeVacation, Mail: svtest.ComposeMail})
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("%d passed, %d failed (floor %d)", sum.Passed, sum.Failed, floor)
	if sum.Passed < floor {
		for _, f := range sum.Failures {
			t.Logf("FAIL %s: %s: %s", filepath.Base(f.File), f.Name, f.Reason)
		}
		t.Errorf("%d test blocks passed, below the floor of %d recorded in %s", sum.Passed, floor, floorFile)
	}
}
