package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
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
		usage: "list|forget [--data DIR] USER [SENDER]: show or reset who already got a reply",
		run:   runDedup,
	}
}

const dedupUsage = `usage: vacationd dedup list [--data DIR] USER [SENDER]
       vacationd dedup forget [--data DIR] USER [SENDER]

list shows USER's reply dedup records (only SENDER's if given): who already
got a vacation reply and until when no other will be sent. forget deletes
them, so the next message from SENDER (or anyone) gets a reply again.
The database is DIR/vacationd.db; it cannot be opened while vacationd serve
runs on it.
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
	dir, pos, err := parseStoreArgs("dedup "+sub, args[1:], stderr)
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
	db, err := openStoreCLI(dir)
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

// parseStoreArgs parses the --data flag wherever it appears among args
// (the flag package stops at the first positional argument) and returns the
// positional arguments. Its default is $VACATIOND_DATA or serve's default.
func parseStoreArgs(name string, args []string, stderr io.Writer) (dir string, pos []string, err error) {
	fset := flag.NewFlagSet("vacationd "+name, flag.ContinueOnError)
	fset.SetOutput(stderr)
	def := os.Getenv("VACATIOND_DATA")
	if def == "" {
		def = defaultDataDir
	}
	fset.StringVar(&dir, "data", def, "data directory holding vacationd.db (env VACATIOND_DATA)")
	for {
		if err := fset.Parse(args); err != nil {
			return "", nil, err
		}
		args = fset.Args()
		if len(args) == 0 {
			return dir, pos, nil
		}
		pos = append(pos, args[0])
		args = args[1:]
	}
}

// openStoreCLI opens DIR/vacationd.db for an operator command. Unlike the
// service it refuses to create a missing database, since that would only
// hide a wrong --data.
func openStoreCLI(dir string) (*store.DB, error) {
	path := filepath.Join(dir, "vacationd.db")
	if _, err := os.Stat(path); errors.Is(err, fs.ErrNotExist) {
		return nil, fmt.Errorf("no database at %s (wrong --data?)", path)
	} else if err != nil {
		return nil, err
	}
	return store.Open(path, store.Options{Timeout: 500 * time.Millisecond})
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
