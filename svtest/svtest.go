// Package svtest runs Pigeonhole-style .svtest files (the
// vnd.dovecot.testsuite extension) against the sieve engine and counts the
// test blocks that pass.
package svtest

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strings"

	"github.com/vacationd/vacationd/programs"
	"github.com/vacationd/vacationd/sieve"
	"github.com/vacationd/vacationd/sources"
)

// Config wires the runner to the rest of the system.
type Config struct {
	// Vacation composes replies when a test executes a vacation action.
	Vacation VacationFunc
	// Mail composes the messages of notify and report actions.
	Mail MailFunc
	// Verbose prints every test block, not just failures.
	Verbose bool
	Out     io.Writer
}

// Failure is a test block that did not pass.
type Failure struct {
	File   string
	Name   string
	Reason string
}

// Summary counts test blocks over all files run.
type Summary struct {
	Passed, Failed int
	// NotRun counts blocks of files that ran to the end without reaching
	// them: the suite disables them itself (e.g. inside "if false").
	NotRun   int
	Failures []Failure
}

var (
	testBlock = regexp.MustCompile(`(?m)^\s*test\s+"((?:[^"\\]|\\.)*)"`)
	// comment matches bracketed comments, whose test blocks are not
	// declared.
	comment = regexp.MustCompile(`(?s)/\*.*?\*/`)
)

// Files expands paths (files or directories, searched recursively) into
// the sorted list of .svtest files.
func Files(paths []string) ([]string, error) {
	var out []string
	for _, p := range paths {
		st, err := os.Stat(p)
		if err != nil {
			return nil, err
		}
		if !st.IsDir() {
			out = append(out, p)
			continue
		}
		err = filepath.WalkDir(p, func(path string, d fs.DirEntry, err error) error {
			if err != nil {
				return err
			}
			if !d.IsDir() && strings.HasSuffix(path, ".svtest") {
				out = append(out, path)
			}
			return nil
		})
		if err != nil {
			return nil, err
		}
	}
	sort.Strings(out)
	return out, nil
}

// Run runs every file and returns the counts. A file that does not compile
// or aborts counts each of its test blocks that did not run as failed.
func Run(ctx context.Context, files []string, cfg Config) (*Summary, error) {
	sum := &Summary{}
	for _, f := range files {
		if err := runFile(ctx, f, cfg, sum); err != nil {
			return sum, err
		}
	}
	return sum, nil
}

func runFile(ctx context.Context, file string, cfg Config, sum *Summary) error {
	src, err := os.ReadFile(file)
	if err != nil {
		return fmt.Errorf("read %s: %w", file, err)
	}
	dir := filepath.Dir(file)
	if abs, err := filepath.Abs(dir); err == nil {
		dir = abs
	}
	declared := testBlock.FindAllStringSubmatch(comment.ReplaceAllString(string(src), ""), -1)
	hooks := &Hooks{
		Load: func(path string) ([]byte, error) {
			b, err := os.ReadFile(filepath.Join(dir, path))
			if errors.Is(err, fs.ErrNotExist) && !strings.HasSuffix(path, ".sieve") {
				b, err = os.ReadFile(filepath.Join(dir, path+".sieve"))
			}
			return b, err
		},
		Resolver: dirResolver{personal: filepath.Join(dir, "included"), global: filepath.Join(dir, "included-global")},
		Vacation: cfg.Vacation,
		Mail:     cfg.Mail,
		Dir:      dir,
		Programs: &programs.Runner{Home: dir, Host: "testsuite.example.com"},
		Lists: func(s sieve.Settings) (sieve.ListSource, error) {
			return sources.ListsFromSettings(s, dir)
		},
		Output: io.Discard,
	}
	if cfg.Verbose && cfg.Out != nil {
		hooks.Output = cfg.Out
	}
	rep, runErr := runSafely(ctx, file, src, hooks)
	type outcome struct {
		name, reason string
		passed       bool
	}
	var outs []outcome
	if rep != nil {
		for _, t := range rep.Tests {
			outs = append(outs, outcome{t.Name, t.Reason, t.Passed})
		}
	}
	crashed := false
	if runErr == nil && len(outs) < len(declared) {
		sum.NotRun += len(declared) - len(outs)
	}
	if runErr != nil {
		reason := runErr.Error()
		crashed = strings.HasPrefix(reason, "panic:")
		if len(outs) == 0 && len(declared) == 0 {
			outs = append(outs, outcome{"(file)", reason, false})
		}
		for _, d := range declared[min(len(outs), len(declared)):] {
			outs = append(outs, outcome{d[1], "not run: " + reason, false})
		}
	}
	// Pigeonhole runs the files of tests/failures with -F: every test is
	// expected to fail (they were crashes once); the file passes when they
	// all fail without bringing the engine down.
	expectFail := filepath.Base(dir) == "failures"
	for _, o := range outs {
		passed := o.passed
		if expectFail && !crashed {
			passed = !o.passed
			if passed {
				o.reason = "failed as expected: " + o.reason
			} else {
				o.reason = "expected to fail, but passed"
			}
		}
		if passed {
			sum.Passed++
			if cfg.Verbose && cfg.Out != nil {
				fmt.Fprintf(cfg.Out, "PASS %s: %s\n", file, o.name)
			}
			continue
		}
		sum.Failed++
		sum.Failures = append(sum.Failures, Failure{File: file, Name: o.name, Reason: o.reason})
	}
	return nil
}

// runSafely turns a panic in the engine into a failure of the file, so one
// bug cannot hide the rest of the suite's results.
func runSafely(ctx context.Context, file string, src []byte, hooks *Hooks) (rep *Report, err error) {
	defer func() {
		if p := recover(); p != nil {
			err = fmt.Errorf("panic: %v", p)
		}
	}()
	return RunFile(ctx, filepath.Base(file), src, hooks, nil)
}

// dirResolver resolves includes from two directories.
type dirResolver struct{ personal, global string }

func (d dirResolver) Resolve(loc sieve.Location, name string) ([]byte, error) {
	dir := d.personal
	if loc == sieve.Global {
		dir = d.global
	}
	if strings.ContainsAny(name, "/\\") || name == "" || name[0] == '.' {
		return nil, sieve.ErrScriptNotFound
	}
	b, err := os.ReadFile(filepath.Join(dir, name+".sieve"))
	if errors.Is(err, fs.ErrNotExist) {
		b, err = os.ReadFile(filepath.Join(dir, name))
	}
	if errors.Is(err, fs.ErrNotExist) {
		return nil, sieve.ErrScriptNotFound
	}
	return b, err
}
