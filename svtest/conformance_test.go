package svtest_test

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/vacationd/vacationd/sieve"
	"github.com/vacationd/vacationd/svtest"
	"github.com/vacationd/vacationd/vacation"
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
	sum, err := svtest.Run(context.Background(), files, svtest.Config{Vacation: composeVacation})
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

// composeVacation sends vacation replies with the real responder, as the
// svtest command does.
func composeVacation(ctx context.Context, a *sieve.Vacation, msg *sieve.Message, env sieve.Envelope, settings sieve.Settings, now time.Time) (*sieve.SentMessage, error) {
	vs, err := vacation.ParseSettings(settings)
	if err != nil {
		return nil, fmt.Errorf("vacation settings: %w", err)
	}
	r := &vacation.Responder{Settings: vs, Now: func() time.Time { return now }, Hostname: "testsuite.example.com"}
	in := &vacation.Input{User: env.To, Action: a, Message: msg,
		Envelope: vacation.Envelope{From: env.From, To: env.To, OrigTo: env.OrigTo}}
	d, err := r.Decide(ctx, in)
	if err != nil || !d.Send {
		return nil, err
	}
	rep, err := r.Compose(in, d)
	if err != nil {
		return nil, nil // an invalid expanded :from: no reply, as the svtest command does
	}
	return &sieve.SentMessage{From: rep.MailFrom, To: rep.RcptTo, Message: rep.Message}, nil
}
