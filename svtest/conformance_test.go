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

// TestDisabledServermetadataBlocks runs the six servermetadata blocks the
// suite disables ("currently not possible to test servermetadata": they
// sit inside "if false", so neither Pigeonhole nor the suite run above
// reaches them) with that guard lifted: vacationd passes them too.
func TestDisabledServermetadataBlocks(t *testing.T) {
	src := filepath.Join(suiteDir, "extensions", "metadata", "execute.svtest")
	raw, err := os.ReadFile(src)
	if err != nil {
		t.Skipf("Pigeonhole test suite not found: %v", err)
	}
	const guard = "# currently not possible to test servermetadata\nif false {"
	if strings.Count(string(raw), guard) != 1 {
		t.Fatalf("%s: the servermetadata guard is not there once", src)
	}
	lifted := strings.Replace(string(raw), guard, "# the guard lifted\nif true {", 1)
	file := filepath.Join(t.TempDir(), "execute.svtest")
	if err := os.WriteFile(file, []byte(lifted), 0o644); err != nil {
		t.Fatal(err)
	}
	before, err := svtest.Run(context.Background(), []string{src}, svtest.Config{Vacation: svtest.ComposeVacation, Mail: svtest.ComposeMail})
	if err != nil {
		t.Fatal(err)
	}
	sum, err := svtest.Run(context.Background(), []string{file}, svtest.Config{Vacation: svtest.ComposeVacation, Mail: svtest.ComposeMail})
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range sum.Failures {
		t.Errorf("FAIL %s: %s", f.Name, f.Reason)
	}
	if before.NotRun != 6 || sum.NotRun != 0 || sum.Passed != before.Passed+6 {
		t.Errorf("guarded: %d passed, %d not run; lifted: %d passed, %d failed, %d not run; want the 6 disabled blocks to pass",
			before.Passed, before.NotRun, sum.Passed, sum.Failed, sum.NotRun)
	}
}
