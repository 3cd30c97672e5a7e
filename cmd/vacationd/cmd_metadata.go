package main

import (
	"fmt"
	"io"
	"text/tabwriter"

	"github.com/vacationd/vacationd/sieve"
	"github.com/vacationd/vacationd/store"
)

func metadataCommand() command {
	return command{name: "metadata", usage: "list|get|set|delete [--data DIR | --state URL] USER [MAILBOX ENTRY [VALUE]]: the METADATA entries scripts read", run: runMetadata}
}

const metadataUsage = `usage: vacationd metadata list   [--data DIR | --state URL] USER
       vacationd metadata get    [--data DIR | --state URL] USER MAILBOX ENTRY
       vacationd metadata set    [--data DIR | --state URL] USER MAILBOX ENTRY VALUE
       vacationd metadata delete [--data DIR | --state URL] USER MAILBOX ENTRY

The METADATA entries (RFC 5464) the mboxmetadata and servermetadata Sieve
tests read: MAILBOX "" holds the server's entries, ENTRY is /private/... or
/shared/.... DIR/vacationd.db cannot be opened while vacationd serve runs on
it (use its /metadata endpoint then); a --state database can.
`

func runMetadata(args []string, stdout, stderr io.Writer) int {
	if len(args) == 0 || args[0] == "-h" || args[0] == "--help" || args[0] == "help" {
		fmt.Fprint(stderr, metadataUsage)
		return 2
	}
	sub := args[0]
	want := map[string]int{"list": 1, "get": 3, "set": 4, "delete": 3}[sub]
	if want == 0 {
		fmt.Fprintf(stderr, "vacationd metadata: unknown subcommand %q\n%s", sub, metadataUsage)
		return 2
	}
	where, pos, err := parseStoreArgs("metadata "+sub, args[1:], stderr)
	if err != nil {
		return 2
	}
	if len(pos) != want || pos[0] == "" {
		fmt.Fprintf(stderr, "vacationd metadata %s: want %d arguments\n%s", sub, want, metadataUsage)
		return 2
	}
	if want >= 3 {
		if why := sieve.MetadataEntryProblem(pos[2]); why != "" {
			fmt.Fprintf(stderr, "vacationd metadata %s: entry %q: %s\n", sub, pos[2], why)
			return 2
		}
	}
	st, err := openStoreCLI(where)
	if err != nil {
		fmt.Fprintf(stderr, "vacationd metadata %s: %v\n", sub, err)
		return 1
	}
	defer st.Close()
	md, ok := st.(store.Metadata)
	if !ok {
		fmt.Fprintf(stderr, "vacationd metadata %s: this state store keeps no metadata\n", sub)
		return 1
	}
	fail := func(err error) int {
		fmt.Fprintf(stderr, "vacationd metadata %s: %v\n", sub, err)
		return 1
	}
	switch sub {
	case "list":
		list, err := md.ListMetadata(pos[0])
		if err != nil {
			return fail(err)
		}
		tw := tabwriter.NewWriter(stdout, 0, 0, 2, ' ', 0)
		fmt.Fprintln(tw, "MAILBOX\tENTRY\tVALUE")
		for _, e := range list {
			fmt.Fprintf(tw, "%s\t%s\t%s\n", printable(e.Mailbox), printable(e.Entry), printable(e.Value))
		}
		if err := tw.Flush(); err != nil {
			return fail(err)
		}
	case "get":
		v, ok, err := md.GetMetadata(pos[0], pos[1], pos[2])
		if err != nil {
			return fail(err)
		}
		if !ok {
			fmt.Fprintf(stderr, "vacationd metadata get: %s is not set\n", pos[2])
			return 1
		}
		fmt.Fprintln(stdout, v)
	case "set":
		if err := md.SetMetadata(pos[0], pos[1], pos[2], pos[3]); err != nil {
			return fail(err)
		}
	case "delete":
		if err := md.DeleteMetadata(pos[0], pos[1], pos[2]); err != nil {
			return fail(err)
		}
	}
	return 0
}
