package main

import (
	"flag"
	"fmt"
	"io"
	"os"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"
	"unicode"

	"github.com/vacationd/vacationd/store"
)

func dedupCommand() command {
	return command{
		name:  "dedup",
		usage: "list|forget [--data DIR | --state URL] USER [SENDER]: show or reset who already got a reply",
		run:   runDedup,
	}
}

const dedupUsage = `usage: vacationd dedup list [--data DIR | --state URL] USER [SENDER]
       vacationd dedup forget [--data DIR | --state URL] USER [SENDER]

list shows USER's reply dedup records (only SENDER's if given): who already
got a vacation reply and until when no other will be sent. forget deletes
them, so the next message from SENDER (or anyone) gets a reply again.
The state is DIR/vacationd.db, which cannot be opened while vacationd serve
runs on it, or with --state the PostgreSQL database the replicas share,
which can (use the HTTP endpoints on a running bbolt service).
`

func runDedup(args []string, stdout, stderr io.Writer) int {
	if len(args) == 0 || args[0] == "-h" || args[0] == "--help" || args[0] == "help" {
		fmt.Fprint(stderr, dedupUsage)
		return 2
	}
	sub := args[0]
	if sub != "list" && sub != "forget" {
		fmt.Fprintf(stderr, "vacationd dedup: unknown subcommand %q\n%s", sub, dedupUsage)
		return 2
	}
	where, pos, err := parseStoreArgs("dedup "+sub, args[1:], stderr)
	if err != nil {
		return 2
	}
	if len(pos) < 1 || len(pos) > 2 || pos[0] == "" {
		fmt.Fprintf(stderr, "vacationd dedup %s: want USER [SENDER]\n%s", sub, dedupUsage)
		return 2
	}
	user, sender := pos[0], ""
	if len(pos) == 2 {
		sender = pos[1]
	}
	db, err := openStoreCLI(where)
	if err != nil {
		fmt.Fprintf(stderr, "vacationd dedup %s: %v\n", sub, err)
		return 1
	}
	defer db.Close()

	who := user
	if sender != "" {
		who += " from " + sender
	}
	if sub == "forget" {
		n, err := db.ForgetDedup(user, sender)
		if err != nil {
			fmt.Fprintf(stderr, "vacationd dedup forget: %v\n", err)
			return 1
		}
		fmt.Fprintf(stdout, "forgot %d dedup record%s for %s\n", n, plural(n), who)
		return 0
	}
	recs, err := db.ListDedup(user, sender)
	if err != nil {
		fmt.Fprintf(stderr, "vacationd dedup list: %v\n", err)
		return 1
	}
	if len(recs) == 0 {
		fmt.Fprintf(stdout, "no dedup records for %s\n", who)
		return 0
	}
	now := time.Now()
	tw := tabwriter.NewWriter(stdout, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "SENDER\tHANDLE\tREPLIED\tEXPIRES\tSTATE")
	for _, r := range recs {
		state := "expired (a reply will be sent)"
		if now.Before(r.Expires) {
			state = "active, " + humanDuration(r.Expires.Sub(now)) + " left"
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\n", printable(r.Key.Sender), printable(r.Key.Handle),
			cliTime(r.Created), cliTime(r.Expires), state)
	}
	if err := tw.Flush(); err != nil {
		fmt.Fprintf(stderr, "vacationd dedup list: %v\n", err)
		return 1
	}
	return 0
}

// storeArgs say which state an operator command works on: the --data,
// --state and --config given on its command line ("" when not given).
type storeArgs struct{ dir, state, config string }

// parseStoreArgs parses the --data, --state and --config flags wherever
// they appear among args (the flag package stops at the first positional
// argument) and returns the positional arguments. openStoreCLI resolves
// them as serve does. more registers a command's own flags.
func parseStoreArgs(name string, args []string, stderr io.Writer, more ...func(*flag.FlagSet)) (where storeArgs, pos []string, err error) {
	fset := flag.NewFlagSet("vacationd "+name, flag.ContinueOnError)
	fset.SetOutput(stderr)
	for _, m := range more {
		m(fset)
	}
	fset.StringVar(&where.dir, "data", "", "data directory holding vacationd.db (env VACATIOND_DATA; default: serve's, "+defaultDataDir+")")
	fset.StringVar(&where.state, "state", "", "shared state: postgres://... (env VACATIOND_STATE); overrides --data")
	fset.StringVar(&where.config, "config", "", "serve's config `FILE` (env VACATIOND_CONFIG): its data and state are the default")
	for {
		if err := fset.Parse(args); err != nil {
			return storeArgs{}, nil, err
		}
		args = fset.Args()
		if len(args) == 0 {
			return where, pos, nil
		}
		pos = append(pos, args[0])
		args = args[1:]
	}
}

// resolve returns the data directory and state URL serve would use given
// where's flags, the environment and the config file: the one reading of
// serve's configuration (loadConfig), so the commands find the state a
// service started with the same file and environment uses.
func (where storeArgs) resolve(environ []string) (dir, state string, err error) {
	var args []string
	for _, f := range []struct{ name, v string }{{"config", where.config}, {"data", where.dir}, {"state", where.state}} {
		if f.v != "" {
			args = append(args, "-"+f.name, f.v)
		}
	}
	c, err := loadConfig(args, environ, io.Discard)
	if err != nil {
		return "", "", err
	}
	return c.opts.data, c.opts.state, nil
}

// openStoreCLI opens the state for an operator command: PostgreSQL with
// --state (the service may be running), else DIR/vacationd.db, which it
// refuses to create, since that would only hide a wrong --data.
func openStoreCLI(where storeArgs) (store.State, error) {
	dir, state, err := where.resolve(os.Environ())
	if err != nil {
		return nil, err
	}
	return openState(state, dir, false, 500*time.Millisecond, nil)
}

// cliTime formats t for operator tables in local time.
func cliTime(t time.Time) string {
	if t.IsZero() {
		return "-"
	}
	return t.Local().Format("2006-01-02 15:04:05 MST")
}

// printable quotes s if it is empty or holds characters that would break a
// table row.
func printable(s string) string {
	if s == "" {
		return `""`
	}
	if strings.ContainsFunc(s, func(r rune) bool { return !unicode.IsPrint(r) || r == '\t' }) {
		return strconv.Quote(s)
	}
	return s
}

// humanDuration formats d to the minute as days and hours, hours and
// minutes, or minutes.
func humanDuration(d time.Duration) string {
	m := int64(d.Round(time.Minute) / time.Minute)
	switch {
	case m >= 24*60:
		return fmt.Sprintf("%dd%dh", m/(24*60), m%(24*60)/60)
	case m >= 60:
		return fmt.Sprintf("%dh%dm", m/60, m%60)
	}
	return fmt.Sprintf("%dm", m)
}

func plural(n int) string {
	if n == 1 {
		return ""
	}
	return "s"
}
