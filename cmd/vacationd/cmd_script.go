package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"strings"
	"text/tabwriter"

	"github.com/vacationd/vacationd/delivery"
	"github.com/vacationd/vacationd/scripts"
	"github.com/vacationd/vacationd/sieve"
)

func scriptCommand() command {
	return command{
		name:  "script",
		usage: "list|get|put|activate|deactivate|delete|rename USER [NAME] [FILE]: users' stored scripts (ManageSieve's)",
		run:   runScript,
	}
}

const scriptUsage = `usage: vacationd script list       [flags] USER
       vacationd script get        [flags] USER NAME
       vacationd script put        [flags] USER NAME [FILE]    (FILE or standard input)
       vacationd script activate   [flags] USER NAME
       vacationd script deactivate [flags] USER
       vacationd script delete     [flags] USER NAME
       vacationd script rename     [flags] USER NAME NEWNAME
flags: --data DIR | --state URL, and for put -x EXTENSIONS and -o NAME=VALUE
as given to serve (--extensions, -o), so a script is stored only if the
service would run it.

These are the scripts --script-source store runs and ManageSieve edits:
put compiles the script first and reports errors as Pigeonhole's
ManageSieve does. DIR/vacationd.db cannot be opened while vacationd serve
runs on it: use the admin API (/scripts) of the running service, or --state
for PostgreSQL.
`

// scriptArgs are the positional arguments each subcommand takes.
var scriptArgs = map[string][2]int{
	"list": {1, 1}, "get": {2, 2}, "put": {2, 3}, "activate": {2, 2}, "deactivate": {1, 1}, "delete": {2, 2}, "rename": {3, 3},
}

func runScript(args []string, stdout, stderr io.Writer) int {
	if len(args) == 0 || args[0] == "-h" || args[0] == "--help" || args[0] == "help" {
		fmt.Fprint(stderr, scriptUsage)
		return 2
	}
	sub := args[0]
	n, ok := scriptArgs[sub]
	if !ok {
		fmt.Fprintf(stderr, "vacationd script: unknown subcommand %q\n%s", sub, scriptUsage)
		return 2
	}
	var ext string
	var settings listFlag
	where, pos, err := parseStoreArgs("script "+sub, args[1:], stderr, func(fs *flag.FlagSet) {
		fs.StringVar(&ext, "x", "", "Sieve extensions, as serve's --extensions")
		fs.Var(&settings, "o", "`NAME=VALUE` Pigeonhole setting, as serve's -o (repeatable)")
	})
	if err != nil {
		return 2
	}
	if len(pos) < n[0] || len(pos) > n[1] || pos[0] == "" {
		fmt.Fprintf(stderr, "vacationd script %s: wrong number of arguments\n%s", sub, scriptUsage)
		return 2
	}
	if err := sieve.CheckExtensions(nil, ext); err != nil {
		fmt.Fprintf(stderr, "vacationd script: -x: %v\n", err)
		return 2
	}
	set, err := delivery.ParseSettings(settings)
	if err != nil {
		fmt.Fprintf(stderr, "vacationd script: -o: %v\n", err)
		return 2
	}
	var src []byte
	if sub == "put" { // read before opening the store: a typo costs nothing
		if len(pos) == 3 && pos[2] != "-" {
			src, err = os.ReadFile(pos[2])
		} else {
			src, err = io.ReadAll(os.Stdin)
		}
		if err != nil {
			fmt.Fprintf(stderr, "vacationd script put: %v\n", err)
			return 1
		}
	}
	db, err := openStoreCLI(where)
	if err != nil {
		fmt.Fprintf(stderr, "vacationd script %s: %v\n", sub, err)
		return 1
	}
	defer db.Close()
	m := &scripts.Manager{Store: db, Compiler: newCompiler(set, ext, nil, nil)}
	user := pos[0]
	fail := func(err error) int {
		var e *scripts.Error
		if errors.As(err, &e) && e.Compile {
			fmt.Fprint(stderr, strings.ReplaceAll(e.Msg, "\r\n", "\n"))
		} else {
			fmt.Fprintf(stderr, "vacationd script %s: %v\n", sub, err)
		}
		return 1
	}
	switch sub {
	case "list":
		list, err := m.List(user)
		if err != nil {
			return fail(err)
		}
		if len(list) == 0 {
			fmt.Fprintf(stdout, "no scripts for %s\n", user)
			return 0
		}
		tw := tabwriter.NewWriter(stdout, 0, 0, 2, ' ', 0)
		fmt.Fprintln(tw, "NAME\tACTIVE\tSIZE\tUPDATED")
		for _, s := range list {
			active := ""
			if s.Active {
				active = "ACTIVE"
			}
			fmt.Fprintf(tw, "%s\t%s\t%d\t%s\n", printable(s.Name), active, len(s.Source), cliTime(s.Updated))
		}
		tw.Flush()
	case "get":
		s, err := m.Get(user, pos[1])
		if err != nil {
			return fail(err)
		}
		stdout.Write(s.Source)
	case "put":
		warn, err := m.Put(user, pos[1], src)
		if err != nil {
			return fail(err)
		}
		fmt.Fprint(stderr, strings.ReplaceAll(warn, "\r\n", "\n"))
		fmt.Fprintf(stdout, "stored %s for %s\n", pos[1], user)
	case "activate":
		if err := m.Activate(user, pos[1]); err != nil {
			return fail(err)
		}
		fmt.Fprintf(stdout, "%s is %s's active script\n", pos[1], user)
	case "deactivate":
		if err := m.Activate(user, ""); err != nil {
			return fail(err)
		}
		fmt.Fprintf(stdout, "%s has no active script\n", user)
	case "delete":
		if err := m.Delete(user, pos[1]); err != nil {
			return fail(err)
		}
		fmt.Fprintf(stdout, "deleted %s for %s\n", pos[1], user)
	case "rename":
		if err := m.Rename(user, pos[1], pos[2]); err != nil {
			return fail(err)
		}
		fmt.Fprintf(stdout, "renamed %s to %s for %s\n", pos[1], pos[2], user)
	}
	return 0
}
