package main

import (
	"flag"
	"fmt"
	"io"
	"slices"
	"strings"
)

// sieve-test compatibility of `vacationd test`: it takes every flag
// Pigeonhole's sieve-test takes, so a command line written for one runs
// the other, and exits with sieve-test's status codes.

// Exit statuses of sieve-test (Pigeonhole's sieve-test.c with Dovecot's
// lib: EX_USAGE from sysexits.h, FATAL_DEFAULT from lib/failures.h).
const (
	exitOK      = 0  // the script ran (and, with -e, its actions succeeded)
	exitFailure = 1  // the script failed at run time: only the implicit keep
	exitUsage   = 64 // EX_USAGE: a bad flag or argument
	exitFatal   = 89 // FATAL_DEFAULT: the script does not compile, a file cannot be read
)

// inertFlags are sieve-test's flags that have no meaning here, with what
// they would do there. They are accepted; the tool says once that it
// ignores each.
var inertFlags = []struct{ name, arg, meaning string }{
	{"c", "FILE", "Dovecot's configuration file: settings come from -o here"},
	{"C", "", "force compiling the script: scripts are always compiled here"},
	{"D", "", "Sieve debugging in Dovecot's log: use -t to trace the run"},
	{"d", "FILE", "dump the compiled binary: there is no binary form here"},
	{"l", "LOCATION", "the mail storage that -e stores into: vacationd does not store mail"},
	{"P", "PLUGIN", "load a Pigeonhole plugin: extensions are built in (enable them with -x)"},
	{"u", "USER", "the Dovecot user to run as: the user is the envelope recipient (-r)"},
}

// traceOptions are the values sieve-test's -T takes. vacationd's trace has
// one level; the options are checked and accepted.
var traceOptions = []string{"level=none", "level=actions", "level=commands", "level=tests", "level=matching", "debug", "addresses"}

// sieveTestCompat registers sieve-test's flags that vacationd test does not
// otherwise have: -m (the mailbox keep stores into), -T (trace options)
// and the inert ones. ignored collects, once each, the inert flags given.
type sieveTestCompat struct {
	mailbox string
	ignored []string
	given   map[string]bool
}

func (c *sieveTestCompat) register(fs *flag.FlagSet) {
	c.given = map[string]bool{}
	c.mailbox = "INBOX"
	fs.StringVar(&c.mailbox, "m", "INBOX", "the default `MAILBOX`, where keep and the implicit keep store, as sieve-test's -m")
	fs.Func("T", "sieve-test trace `OPTION` (level=none|actions|commands|tests|matching, debug, addresses): accepted; -t traces at one level", func(v string) error {
		if !slices.Contains(traceOptions, v) {
			return fmt.Errorf("unknown trace option %q (want one of %s)", v, strings.Join(traceOptions, ", "))
		}
		c.note("T", "trace options: the trace (-t) has one level here")
		return nil
	})
	for _, f := range inertFlags {
		f := f
		usage := "accepted for sieve-test compatibility and ignored: " + f.meaning
		if f.arg == "" {
			fs.BoolFunc(f.name, usage, func(string) error {
				c.note(f.name, f.meaning)
				return nil
			})
			continue
		}
		fs.Func(f.name, "`"+f.arg+"` "+usage, func(string) error {
			c.note(f.name, f.meaning)
			return nil
		})
	}
}

func (c *sieveTestCompat) note(name, meaning string) {
	if c.given[name] {
		return
	}
	c.given[name] = true
	c.ignored = append(c.ignored, fmt.Sprintf("vacationd test: -%s ignored (%s)", name, meaning))
}

// report says once which flags were ignored.
func (c *sieveTestCompat) report(w io.Writer) {
	for _, line := range c.ignored {
		fmt.Fprintln(w, line)
	}
}

// getoptArgs rewrites sieve-test's getopt spellings that Go's flag
// package does not read: bundled flags ("-Ce" for "-C -e") and a value
// attached to its flag ("-x+editheader", "-mArchive"). An argument that
// names a flag of fs as it is ("-json", "-data") is left alone, as are
// flag values and everything after the first operand.
func getoptArgs(fs *flag.FlagSet, args []string) []string {
	isBool := func(f *flag.Flag) bool {
		b, ok := f.Value.(interface{ IsBoolFlag() bool })
		return ok && b.IsBoolFlag()
	}
	var out []string
	for i := 0; i < len(args); i++ {
		a := args[i]
		if a == "--" || !strings.HasPrefix(a, "-") || a == "-" {
			return append(out, args[i:]...)
		}
		name := strings.TrimLeft(a, "-")
		if k := strings.IndexByte(name, '='); k >= 0 {
			name = name[:k]
		}
		if f := fs.Lookup(name); f != nil || strings.HasPrefix(a, "--") || len(a) == 2 {
			out = append(out, a)
			if f != nil && !isBool(f) && !strings.Contains(a, "=") && i+1 < len(args) {
				i++
				out = append(out, args[i]) // the flag's value, whatever it looks like
			}
			continue
		}
		// A bundle: boolean flags, possibly ending in a flag that takes
		// the rest as its value.
		expanded, ok := []string(nil), true
		for j := 1; j < len(a); j++ {
			f := fs.Lookup(a[j : j+1])
			if f == nil {
				ok = false
				break
			}
			expanded = append(expanded, "-"+a[j:j+1])
			if !isBool(f) {
				if j+1 < len(a) {
					expanded = append(expanded, a[j+1:])
				} else if i+1 < len(args) {
					i++
					expanded = append(expanded, args[i])
				}
				break
			}
		}
		if !ok {
			out = append(out, a) // let the flag package report it
			continue
		}
		out = append(out, expanded...)
	}
	return out
}
