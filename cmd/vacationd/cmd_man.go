package main

import (
	"flag"
	"fmt"
	"io"
	"strings"
)

// manCommand prints vacationd(8) in roff, generated from the serve flag
// definitions so the page cannot drift from the binary; `make install`
// and `make deb` install its output.
func manCommand() command {
	return command{name: "man", usage: "print the vacationd(8) man page (roff)", run: runMan}
}

func runMan(args []string, stdout, stderr io.Writer) int {
	if len(args) > 0 {
		fmt.Fprintln(stderr, "vacationd man: takes no arguments")
		return 2
	}
	writeMan(stdout, flagsOf(), commands())
	return 0
}

// roffEscape escapes text for roff: backslashes, and a leading dot or
// quote that would start a request.
func roffEscape(s string) string {
	s = strings.ReplaceAll(s, `\`, `\e`)
	s = strings.ReplaceAll(s, "-", `\-`)
	if strings.HasPrefix(s, ".") || strings.HasPrefix(s, "'") {
		s = `\&` + s
	}
	return s
}

func writeMan(w io.Writer, fs *flag.FlagSet, cmds []command) {
	v := buildVersion()
	fmt.Fprintf(w, ".TH VACATIOND 8 \"\" \"vacationd %s\" \"System Administration\"\n", roffEscape(v.Version))
	fmt.Fprint(w, `.SH NAME
vacationd \- Sieve vacation (out\-of\-office) engine behind an LMTP endpoint
.SH SYNOPSIS
.B vacationd
.I command
[\fIflags\fR] [\fIargs\fR]
.SH DESCRIPTION
vacationd receives mail over LMTP (RFC 2033), optionally behind the PROXY
protocol, runs each recipient's Sieve script (RFC 5228) with the vacation
extension (RFC 5230, RFC 6131), records which senders already got a reply,
and sends replies over SMTP from a durable outbox.
.SH COMMANDS
`)
	for _, c := range cmds {
		fmt.Fprintf(w, ".TP\n.B %s\n%s\n", c.name, roffEscape(c.usage))
	}
	fmt.Fprint(w, `.SH SERVE SETTINGS
Every setting of
.B vacationd serve
is a flag; those marked [reloaded by SIGHUP] change on a reload, the
others need a restart. The same setting can be given as the environment variable
shown, or as a key of the TOML file named by
.BR \-\-config .
The command line overrides the environment, which overrides the file.
.B vacationd config
prints the effective values and where each came from.
`)
	reloadable := reloadableFlags()
	fs.VisitAll(func(f *flag.Flag) {
		name, usage := flag.UnquoteUsage(f)
		if reloadable[f.Name] {
			usage += " [reloaded by SIGHUP]"
		}
		fmt.Fprintf(w, ".TP\n.BR \\-\\-%s", roffEscape(f.Name))
		if name != "" {
			fmt.Fprintf(w, " \" \" \\fI%s\\fR", roffEscape(name))
		}
		fmt.Fprintf(w, "\n%s", roffEscape(usage))
		if f.DefValue != "" && f.DefValue != "false" {
			fmt.Fprintf(w, " (default: %s)", roffEscape(f.DefValue))
		}
		fmt.Fprintf(w, "\n.br\nEnvironment: %s", envName(f.Name))
		if f.Name != "config" {
			fmt.Fprintf(w, "; config key: %s", roffEscape(f.Name))
		}
		fmt.Fprintln(w)
	})
	fmt.Fprint(w, `.SH SIGNALS
.TP
.B SIGHUP
reloads the configuration file, the scripts, the Sieve settings, TLS
certificates, passwd\-files and the log level without dropping
connections. The log says what changed, or why the reload was refused, in
which case the old configuration stays.
.TP
.BR SIGTERM ", " SIGINT
stop accepting, finish the sessions in flight, then exit.
.SH FILES
.TP
.I /etc/vacationd/vacationd.toml
the configuration file of the packaged service
.TP
.I /var/lib/vacationd/vacationd.db
the default database (dedup records and the outbox)
.SH SEE ALSO
.BR sieve\-test (1),
.BR postconf (1)
`)
}
