package main

import (
	"context"
	"flag"
	"fmt"
	"io"

	"github.com/vacationd/vacationd/svtest"
)

func svtestCommand() command {
	return command{name: "svtest", usage: "run Pigeonhole .svtest files: svtest [-v] PATH...", run: runSvtest}
}

func runSvtest(args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("svtest", flag.ContinueOnError)
	fs.SetOutput(stderr)
	verbose := fs.Bool("v", false, "print every test block, not only failures")
	if err := fs.Parse(args); err != nil {
		return 2
	}
	if fs.NArg() == 0 {
		fmt.Fprintln(stderr, "usage: vacationd svtest [-v] PATH...")
		return 2
	}
	files, err := svtest.Files(fs.Args())
	if err != nil {
		fmt.Fprintf(stderr, "svtest: %v\n", err)
		return 1
	}
	sum, err := svtest.Run(context.Background(), files, svtest.Config{Verbose: *verbose, Out: stdout, Vacation: svtest.ComposeVacation, Mail: svtest.ComposeMail})
	if err != nil {
		fmt.Fprintf(stderr, "svtest: %v\n", err)
		return 1
	}
	for _, f := range sum.Failures {
		fmt.Fprintf(stdout, "FAIL %s: %s: %s\n", f.File, f.Name, f.Reason)
	}
	fmt.Fprintf(stdout, "%d passed, %d failed", sum.Passed, sum.Failed)
	if sum.NotRun > 0 {
		fmt.Fprintf(stdout, ", %d not run (disabled by the suite itself)", sum.NotRun)
	}
	fmt.Fprintln(stdout)
	if sum.Failed > 0 {
		return 1
	}
	return 0
}
