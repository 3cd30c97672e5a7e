package main

import (
	"strconv"
	"testing"
)

func TestOutboxCommand(t *testing.T) {
	dir, ids := seedStore(t)
	a, b := strconv.FormatUint(ids[0], 10), strconv.FormatUint(ids[1], 10)
	runCLICases(t, dir, []cliCase{
		{name: "list", args: []string{"outbox", "list", "--data", "DIR"},
			out: []string{"ID", "NEXT ATTEMPT", a + "  ", "vacation", "<>", "bob@example.org", "451 4.3.0 relay busy",
				b + "  ", "redirect", "x@example.net", "a@example.net,b@example.net", "2 records"}},
		{name: "show", args: []string{"outbox", "show", "--data", "DIR", a},
			out: []string{"MAIL FROM:<> RCPT TO:<bob@example.org>", "Attempts:     1", "Subject: Away\r\n\r\nback monday"}},
		{name: "flush", args: []string{"outbox", "flush", "--data", "DIR"}, out: []string{"1 outbox record due now"}},
		{name: "flushed", args: []string{"outbox", "show", "--data", "DIR", a}, out: []string{"Attempts:     1"}},
		{name: "flush again", args: []string{"outbox", "flush", "--data", "DIR"}, out: []string{"0 outbox records due now"}},
		{name: "flush with id", args: []string{"outbox", "flush", "--data", "DIR", a}, code: 2, errOut: "unexpected argument"},
		{name: "retry", args: []string{"outbox", "retry", a, "--data", "DIR"}, out: []string{"outbox record " + a + " is due now"}},
		{name: "retried", args: []string{"outbox", "show", "--data", "DIR", a}, out: []string{"Attempts:     1"}},
		{name: "drop", args: []string{"outbox", "drop", "--data", "DIR", b},
			out: []string{"dropped outbox record " + b + " (redirect for bob@example.com, from x@example.net to a@example.net,b@example.net)"}},
		{name: "dropped", args: []string{"outbox", "dropped", "--data", "DIR"}, out: []string{b + "  ", "dropped by operator"}},
		{name: "list after drop", args: []string{"outbox", "list", "--data", "DIR"}, out: []string{"1 record\n"}, noOut: []string{"redirect"}},
		{name: "drop missing", args: []string{"outbox", "drop", "--data", "DIR", b}, code: 1, errOut: "outbox record " + b + ": not found"},
		{name: "retry missing", args: []string{"outbox", "retry", "--data", "DIR", "999"}, code: 1, errOut: "not found"},
		{name: "bad id", args: []string{"outbox", "drop", "--data", "DIR", "x1"}, code: 2, errOut: `bad ID "x1"`},
		{name: "no id", args: []string{"outbox", "show", "--data", "DIR"}, code: 2, errOut: "want one ID"},
		{name: "extra arg", args: []string{"outbox", "list", "--data", "DIR", "7"}, code: 2, errOut: `unexpected argument "7"`},
		{name: "bad subcommand", args: []string{"outbox", "purge"}, code: 2, errOut: `unknown subcommand "purge"`},
		{name: "no args", args: []string{"outbox"}, code: 2, errOut: "usage: vacationd outbox"},
		{name: "missing db", args: []string{"outbox", "list", "--data", "DIR/nope"}, code: 1, errOut: "no database at"},
	})
}
