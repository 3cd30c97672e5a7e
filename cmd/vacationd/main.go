// Command vacationd is a Sieve vacation engine: an LMTP delivery target that runs
// per-user Sieve scripts and sends auto-replies from a durable outbox.
package main

import (
	"fmt"
	"io"
	"os"
)

// command is one subcommand of the binary.
type command struct {
	name  string
	usage string
	run   func(args []string, stdout, stderr io.Writer) int
}

func commands() []command {
	return []command{
		serveCommand(),
		svtestCommand(),
		dedupCommand(),
		metadataCommand(),
		outboxCommand(),
		scriptCommand(),
		migrateCommand(),
		testCommand(),
		checkCommand(),
		healthCommand(),
		configCommand(),
		versionCommand(),
		manCommand(),
	}
}

func main() {
	os.Exit(run(os.Args[1:], os.Stdout, os.Stderr))
}

func run(args []string, stdout, stderr io.Writer) int {
	cmds := commands()
	if len(args) == 0 || args[0] == "-h" || args[0] == "--help" || args[0] == "help" {
		usage(stderr, cmds)
		return 2
	}
	if args[0] == "--version" || args[0] == "-version" || args[0] == "-V" {
		return runVersion(nil, stdout, stderr)
	}
	for _, c := range cmds {
		if c.name == args[0] {
			return c.run(args[1:], stdout, stderr)
		}
	}
	fmt.Fprintf(stderr, "vacationd: unknown command %q\n", args[0])
	usage(stderr, cmds)
	return 2
}

func usage(w io.Writer, cmds []command) {
	fmt.Fprintln(w, "usage: vacationd COMMAND [flags] [args]")
	fmt.Fprintln(w, "commands:")
	for _, c := range cmds {
		fmt.Fprintf(w, "  %-8s %s\n", c.name, c.usage)
	}
}
