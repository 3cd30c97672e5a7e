package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"

	"github.com/vacationd/vacationd/delivery"

	"github.com/vacationd/vacationd/sieve"
)

// checkCommand is what sievec is to Dovecot users: compile scripts and
// report every error as file:line:col: message.
func checkCommand() command {
	return command{
		name:  "check",
		usage: "compile Sieve scripts and report every error (like sievec)",
		run:   runCheck,
	}
}

func runCheck(args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("check", flag.ContinueOnError)
	fs.SetOutput(stderr)
	ext := fs.String("x", "", "extensions to enable or disable, like sieve_extensions: \"+vacation-seconds -regex\"")
	var settings listFlag
	fs.Var(&settings, "o", "`NAME=VALUE` Pigeonhole setting, e.g. sieve_extensions=+editheader (repeatable)")
	config := fs.String("config", "", "check serve's configuration `FILE` and the scripts it runs (or the SCRIPTs given, under its options), like postfix check")
	fs.Usage = func() {
		fmt.Fprintln(stderr, "usage: vacationd check [-x EXTENSIONS] [-o NAME=VALUE]... SCRIPT...")
		fmt.Fprintln(stderr, "       vacationd check --config FILE [SCRIPT...]")
		fs.PrintDefaults()
	}
	if err := fs.Parse(args); err != nil {
		return 2
	}
	if *config != "" {
		if *ext != "" || len(settings) > 0 {
			fmt.Fprintln(stderr, "vacationd check: with --config the extensions and settings are the config's: no -x or -o")
			return 2
		}
		return checkConfig(*config, fs.Args(), stdout, stderr)
	}
	if fs.NArg() == 0 {
		fs.Usage()
		return 2
	}
	if err := sieve.CheckExtensions(nil, *ext); err != nil {
		fmt.Fprintf(stderr, "vacationd check: -x: %v\n", err)
		return 2
	}
	set, err := delivery.ParseSettings(settings)
	if err != nil {
		fmt.Fprintf(stderr, "vacationd check: -o: %v\n", err)
		return 2
	}
	status := 0
	for _, path := range fs.Args() {
		c := newCompiler(set, *ext, delivery.DirResolver(filepath.Dir(path)), nil)
		if err := checkScript(c, path, stderr); err != nil {
			status = 1
		}
	}
	return status
}

// checkScript compiles one script and prints its errors, or its
// warnings (as sievec does, file:line:col: warning: message), to w.
func checkScript(c *delivery.Compiler, path string, w io.Writer) error {
	src, err := os.ReadFile(path)
	if err != nil {
		fmt.Fprintf(w, "%s: %v\n", path, err)
		return err
	}
	s, err := c.Compile(path, src, delivery.DirResolver(filepath.Dir(path)))
	if err == nil {
		for _, warn := range s.Warnings() {
			fmt.Fprintf(w, "%s: warning: %s\n", warn.Pos, warn.Msg)
		}
		return nil
	}
	printCompileErrors(w, path, err)
	return err
}

// printCompileErrors prints each error of a failed compilation on its own
// line, file:line:col: message.
func printCompileErrors(w io.Writer, path string, err error) {
	for _, line := range compileErrorLines(path, err) {
		fmt.Fprintln(w, line)
	}
}

func compileErrorLines(path string, err error) []string {
	var list sieve.ErrorList
	if errors.As(err, &list) {
		out := make([]string, 0, len(list))
		for _, e := range list {
			out = append(out, e.Error())
		}
		return out
	}
	var one *sieve.Error
	if errors.As(err, &one) {
		return []string{one.Error()}
	}
	return []string{fmt.Sprintf("%s: %v", path, err)}
}
