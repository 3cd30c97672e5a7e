package main

import (
	"fmt"
	"io"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/vacationd/vacationd/relay"
	"github.com/vacationd/vacationd/store"
)

func outboxCommand() command {
	return command{
		name:  "outbox",
		usage: "list|show|retry|flush|drop|dropped [--data DIR | --state URL] [ID]: inspect and manage queued replies",
		run:   runOutbox,
	}
}

const outboxUsage = `usage: vacationd outbox list [--data DIR | --state URL]
       vacationd outbox show [--data DIR | --state URL] ID
       vacationd outbox retry [--data DIR | --state URL] ID
       vacationd outbox flush [--data DIR | --state URL]
       vacationd outbox drop [--data DIR | --state URL] ID
       vacationd outbox dropped [--data DIR | --state URL]

list shows the replies and redirects waiting to be relayed; show prints one
with its message; retry makes one due now (without counting an attempt),
flush every one waiting for a later attempt (as postqueue -f); drop deletes
one unsent; dropped lists the most recently dropped records and
why. The state is DIR/vacationd.db, which cannot be opened while vacationd
serve runs on it, or with --state the PostgreSQL database the replicas
share, which can: retry and flush then leave a record a relay is sending
alone. On a running service the admin API does the same (POST /outbox/retry,
POST /outbox/flush).
`

func runOutbox(args []string, stdout, stderr io.Writer) int {
	if len(args) == 0 || args[0] == "-h" || args[0] == "--help" || args[0] == "help" {
		fmt.Fprint(stderr, outboxUsage)
		return 2
	}
	sub := args[0]
	wantID := map[string]bool{"list": false, "dropped": false, "show": true, "retry": true, "flush": false, "drop": true}
	needID, ok := wantID[sub]
	if !ok {
		fmt.Fprintf(stderr, "vacationd outbox: unknown subcommand %q\n%s", sub, outboxUsage)
		return 2
	}
	where, pos, err := parseStoreArgs("outbox "+sub, args[1:], stderr)
	if err != nil {
		return 2
	}
	var id uint64
	switch {
	case needID && len(pos) != 1:
		fmt.Fprintf(stderr, "vacationd outbox %s: want one ID\n%s", sub, outboxUsage)
		return 2
	case needID:
		id, err = strconv.ParseUint(pos[0], 10, 64)
		if err != nil || id == 0 {
			fmt.Fprintf(stderr, "vacationd outbox %s: bad ID %q: want a record number from outbox list\n", sub, pos[0])
			return 2
		}
	case len(pos) != 0:
		fmt.Fprintf(stderr, "vacationd outbox %s: unexpected argument %q\n%s", sub, pos[0], outboxUsage)
		return 2
	}
	db, err := openStoreCLI(where)
	if err != nil {
		fmt.Fprintf(stderr, "vacationd outbox %s: %v\n", sub, err)
		return 1
	}
	defer db.Close()

	switch sub {
	case "list":
		err = outboxList(db, stdout)
	case "dropped":
		err = outboxDropped(db, stdout)
	case "show":
		err = outboxShow(db, id, stdout)
	case "retry":
		// RescheduleIdle: with shared state a relay may be sending it.
		if err = db.RescheduleIdle(id, time.Now()); err == nil {
			fmt.Fprintf(stdout, "outbox record %d is due now; vacationd serve sends it\n", id)
		}
	case "flush":
		var n int
		if n, err = relay.Flush(db, time.Now()); err == nil {
			fmt.Fprintf(stdout, "%d outbox record%s due now; vacationd serve sends them\n", n, plural(n))
		}
	case "drop":
		var r store.OutboxRecord
		if r, err = db.Get(id); err == nil {
			if err = db.Drop(id, "dropped by operator"); err == nil {
				fmt.Fprintf(stdout, "dropped outbox record %d (%s for %s, from %s to %s)\n",
					id, r.Kind, r.User, envFrom(r.From), strings.Join(r.To, ","))
			}
		}
	}
	if err != nil {
		fmt.Fprintf(stderr, "vacationd outbox %s: %v\n", sub, err)
		return 1
	}
	return 0
}

func outboxList(db store.State, w io.Writer) error {
	recs, err := db.ListOutbox()
	if err != nil {
		return err
	}
	if len(recs) == 0 {
		fmt.Fprintln(w, "outbox is empty")
		return nil
	}
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "ID\tKIND\tUSER\tFROM\tTO\tSIZE\tATTEMPTS\tQUEUED\tNEXT ATTEMPT\tLAST ERROR")
	for _, r := range recs {
		fmt.Fprintf(tw, "%d\t%s\t%s\t%s\t%s\t%d\t%d\t%s\t%s\t%s\n", r.ID, r.Kind, printable(r.User),
			printable(envFrom(r.From)), printable(strings.Join(r.To, ",")), len(r.Message), r.Attempts,
			cliTime(r.Queued), cliTime(r.NextAttempt), lastError(r.LastError))
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	fmt.Fprintf(w, "%d record%s\n", len(recs), plural(len(recs)))
	return nil
}

func outboxDropped(db store.State, w io.Writer) error {
	recs, err := db.ListDropped()
	if err != nil {
		return err
	}
	if len(recs) == 0 {
		fmt.Fprintln(w, "no dropped records")
		return nil
	}
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "ID\tKIND\tUSER\tFROM\tTO\tATTEMPTS\tQUEUED\tDROPPED\tREASON")
	for _, d := range recs {
		r := d.Record
		fmt.Fprintf(tw, "%d\t%s\t%s\t%s\t%s\t%d\t%s\t%s\t%s\n", r.ID, r.Kind, printable(r.User),
			printable(envFrom(r.From)), printable(strings.Join(r.To, ",")), r.Attempts,
			cliTime(r.Queued), cliTime(d.Dropped), lastError(d.Reason))
	}
	return tw.Flush()
}

func outboxShow(db store.State, id uint64, w io.Writer) error {
	r, err := db.Get(id)
	if err != nil {
		return err
	}
	fmt.Fprintf(w, "ID:           %d\n", r.ID)
	fmt.Fprintf(w, "Kind:         %s\n", r.Kind)
	fmt.Fprintf(w, "User:         %s\n", printable(r.User))
	fmt.Fprintf(w, "Envelope:     MAIL FROM:<%s> RCPT TO:<%s>\n", r.From, strings.Join(r.To, ">,<"))
	fmt.Fprintf(w, "Attempts:     %d\n", r.Attempts)
	fmt.Fprintf(w, "Queued:       %s\n", cliTime(r.Queued))
	fmt.Fprintf(w, "Next attempt: %s\n", cliTime(r.NextAttempt))
	if r.LastError != "" {
		fmt.Fprintf(w, "Last error:   %s\n", printable(r.LastError))
	}
	fmt.Fprintf(w, "Message:      %d bytes\n\n", len(r.Message))
	_, err = w.Write(r.Message)
	return err
}

func envFrom(from string) string {
	if from == "" {
		return "<>"
	}
	return from
}

// lastError shortens an SMTP error for a table cell.
func lastError(s string) string {
	if s == "" {
		return "-"
	}
	s = strings.Join(strings.Fields(s), " ")
	if r := []rune(s); len(r) > 60 {
		s = string(r[:59]) + "…"
	}
	return s
}
