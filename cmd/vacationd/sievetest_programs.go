package main

import (
	"context"

	"github.com/vacationd/vacationd/programs"
	"github.com/vacationd/vacationd/sieve"
)

// testPrograms runs the programs of filter and execute for `vacationd
// test` (when the extensions are enabled with -x and a bin dir given with
// -o sieve_*_bin_dir, as for sieve-test); pipe programs run only with -e,
// as sieve-test only executes actions then.
type testPrograms struct {
	runner  programs.Runner
	execute bool
}

func (p *testPrograms) RunProgram(ctx context.Context, call *sieve.ProgramCall) ([]byte, error) {
	if call.Kind == "pipe" && !p.execute {
		return nil, nil
	}
	return p.runner.RunProgram(ctx, call)
}
