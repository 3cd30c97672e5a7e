package main

import (
	"bytes"
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/vacationd/vacationd/delivery"
	"github.com/vacationd/vacationd/mailaddr"
	"github.com/vacationd/vacationd/programs"
	"github.com/vacationd/vacationd/sieve"
	"github.com/vacationd/vacationd/store"
	"github.com/vacationd/vacationd/vacation"
)

// testCommand is what sieve-test is to Dovecot users: run a script on a
// message and show what would happen, including the vacation reply. (The
// file is not cmd_test.go because Go reserves the _test.go suffix.)
func testCommand() command {
	return command{
		name:  "test",
		usage: "run a Sieve script on a message and show the actions and the vacation reply (like sieve-test)",
		run:   runTest,
	}
}

// listFlag collects a repeatable flag.
type listFlag []string

func (l *listFlag) String() string     { return strings.Join(*l, ", ") }
func (l *listFlag) Set(v string) error { *l = append(*l, v); return nil }

// testOptions are the parsed flags of vacationd test.
type testOptions struct {
	json       bool
	execute    bool
	trace      string
	before     listFlag
	from       string
	fromSet    bool
	to         string
	origTo     string
	extensions string
	settings   listFlag
	now        string
	data       string
	script     string
	message    string
	compat     sieveTestCompat // sieve-test's other flags
}

func parseTestFlags(args []string, stderr io.Writer) (*testOptions, bool) {
	o := &testOptions{}
	fs := flag.NewFlagSet("test", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.BoolVar(&o.json, "json", false, "print one JSON document (see shared/difftest/README.md)")
	fs.BoolVar(&o.execute, "e", false, "execute: count the reply as sent and record it for deduplication (implied by --data)")
	fs.StringVar(&o.trace, "t", "", "trace tests and actions as they run to `FILE` (- for stdout, stderr with --json)")
	fs.Var(&o.before, "s", "run `SCRIPT` before the main one (repeatable, like sieve_before)")
	fs.Func("f", "envelope `SENDER` (default: Return-Path, Sender or From of the message)", func(v string) error {
		o.from, o.fromSet = v, true
		return nil
	})
	fs.StringVar(&o.to, "r", "", "final envelope `RECIPIENT` (default: Envelope-To or To of the message)")
	fs.StringVar(&o.origTo, "a", "", "original envelope `RECIPIENT` (default: the final recipient)")
	fs.StringVar(&o.extensions, "x", "", "`EXTENSIONS` to enable or disable, like sieve_extensions: \"+vacation-seconds -regex\"")
	fs.Var(&o.settings, "o", "`NAME=VALUE` Pigeonhole setting, e.g. sieve_vacation_min_period=0 (repeatable)")
	fs.StringVar(&o.now, "now", "", "run at this `RFC3339` time instead of the clock")
	fs.StringVar(&o.data, "data", "", "keep vacation dedup records between runs in `DIR`/vacationd.db, the service's store")
	o.compat.register(fs)
	fs.Usage = func() {
		fmt.Fprintln(stderr, "usage: vacationd test [--json] [-e] [-t FILE] [-s BEFORE-SCRIPT]... [-f SENDER] [-r RECIPIENT] [-a ORIG-RECIPIENT]")
		fmt.Fprintln(stderr, "                      [-x EXTENSIONS] [-o NAME=VALUE]... [--now RFC3339] [--data DIR] [-m MAILBOX]")
		fmt.Fprintln(stderr, "                      [-T TRACE-OPTION] [-c FILE] [-C] [-D] [-d FILE] [-l LOCATION] [-P PLUGIN] [-u USER] SCRIPT MESSAGE")
		fmt.Fprintln(stderr, "exit status as sieve-test's: 0 ran, 1 the script failed at run time, 64 bad usage, 89 the script does not compile or a file cannot be read")
		fs.PrintDefaults()
	}
	if err := fs.Parse(getoptArgs(fs, args)); err != nil {
		return nil, false
	}
	if fs.NArg() != 2 {
		fs.Usage()
		return nil, false
	}
	if err := sieve.CheckExtensions(nil, o.extensions); err != nil {
		fmt.Fprintf(stderr, "vacationd test: -x: %v\n", err)
		return nil, false
	}
	o.script, o.message = fs.Arg(0), fs.Arg(1)
	return o, true
}

func runTest(args []string, stdout, stderr io.Writer) int {
	o, ok := parseTestFlags(args, stderr)
	if !ok {
		return exitUsage
	}
	o.compat.report(stderr)
	out, err := testScript(context.Background(), o, stdout, stderr)
	if err != nil {
		fmt.Fprintf(stderr, "vacationd test: %v\n", err)
		return exitFatal
	}
	out.mailbox = o.compat.mailbox
	if o.json {
		enc := json.NewEncoder(stdout)
		enc.SetIndent("", "  ")
		enc.SetEscapeHTML(false)
		if err := enc.Encode(out.doc()); err != nil {
			fmt.Fprintf(stderr, "vacationd test: %v\n", err)
			return exitFatal
		}
	} else {
		out.print(stdout, stderr)
	}
	switch {
	case out.compileErrors != nil:
		return exitFatal
	case out.runtimeError != "":
		return exitFailure
	}
	return exitOK
}

// testOutcome is everything vacationd test reports.
type testOutcome struct {
	compileErrors []string
	// compileWarnings are the scripts' compile warnings, as check prints
	// them (file:line:col: warning: message).
	compileWarnings []string
	runtimeError    string
	actions         []sieve.Action
	implicitKeep    bool
	warnings        []string
	vacations       map[*sieve.Vacation]vacationOutcome
	// mail holds the composed notification or report of each notify and
	// report action (nil: none is sent).
	mail     map[sieve.Action]*store.OutboxRecord
	envelope vacation.Envelope
	mailbox  string // where keep stores (-m), "" for INBOX
}

// keepMailbox is where keep and the implicit keep store.
func (t *testOutcome) keepMailbox() string {
	if t.mailbox == "" {
		return "INBOX"
	}
	return t.mailbox
}

type vacationOutcome struct {
	decision *vacation.Decision
	reply    *vacation.Reply
}

// testScript runs the scripts through the service's pipeline and decides
// every vacation action the way the service does.
func testScript(ctx context.Context, o *testOptions, stdout, stderr io.Writer) (*testOutcome, error) {
	settings, err := delivery.ParseSettings(o.settings)
	if err != nil {
		return nil, fmt.Errorf("-o: %w", err)
	}
	// Like sieve-test, bad periods fall back to the defaults with a warning.
	vset, setWarnings, err := vacation.ParseSettingsLenient(settings)
	if err != nil {
		return nil, err
	}
	now := time.Now
	if o.now != "" {
		t, err := time.Parse(time.RFC3339, o.now)
		if err != nil {
			return nil, fmt.Errorf("--now %q: %w", o.now, err)
		}
		now = func() time.Time { return t }
	}
	raw, err := os.ReadFile(o.message)
	if err != nil {
		return nil, err
	}
	msg := sieve.ParseMessage(stripMboxFrom(raw))
	env := defaultEnvelope(msg, o)
	out := &testOutcome{vacations: map[*sieve.Vacation]vacationOutcome{}, warnings: setWarnings,
		envelope: vacation.Envelope{From: env.From, To: env.To, OrigTo: env.OrigTo}}

	trace, closeTrace, err := openTrace(o, stdout, stderr)
	if err != nil {
		return nil, err
	}
	defer closeTrace()

	var state delivery.State = &delivery.MemoryState{}
	if o.data != "" {
		db, err := openTestStore(o.data)
		if err != nil {
			return nil, err
		}
		defer db.Close()
		state = db
	}
	host, _ := os.Hostname()
	// The before scripts and the main one run in sequence, as Pigeonhole
	// runs sieve_before scripts and the personal one; like sieve-test,
	// nothing runs when one of them does not compile.
	pipe := &delivery.Pipeline{
		Source:    delivery.Files(append(append([]string{}, o.before...), o.script)),
		Compiler:  newCompiler(settings, o.extensions, delivery.DirResolver(filepath.Dir(o.script)), nil),
		Settings:  settings,
		Responder: &vacation.Responder{Settings: vset, Dedup: delivery.StoreDedup{DB: state}, Now: now, Hostname: host},
		Strict:    true,
		Now:       now,
		Programs:  &testPrograms{runner: programs.Runner{Host: host}, execute: o.execute},
	}
	user := delivery.UserKey(env.To, settings.String("recipient_delimiter", ""))
	res, err := pipe.Evaluate(ctx, &delivery.Request{User: user, Envelope: env, Message: msg, Trace: trace,
		Duplicates: delivery.StoreDuplicates(state, user, now())})
	if err != nil {
		return nil, err
	}
	for _, e := range res.CompileErrors {
		out.compileErrors = append(out.compileErrors, compileErrorLines(o.script, e)...)
	}
	if out.compileErrors != nil {
		return out, nil
	}
	for _, w := range res.CompileWarnings {
		out.compileWarnings = append(out.compileWarnings, fmt.Sprintf("%s: warning: %s", w.Pos, w.Msg))
	}
	out.actions = res.Actions()
	out.implicitKeep = res.ImplicitKeep()
	out.warnings = append(out.warnings, res.Run.Warnings...)
	if res.RunErr != nil {
		// A failed run performs none of its actions, only the implicit keep.
		out.runtimeError = res.RunErr.Error()
	}
	for a, v := range res.Vacation {
		out.vacations[a] = vacationOutcome{decision: v.Decision, reply: v.Reply}
	}
	out.mail = res.Mail
	if o.execute || o.data != "" {
		// Count the replies as sent: record them for deduplication (the
		// replies themselves are not queued).
		marks := make([]store.Mark, len(res.Marks))
		for i, m := range res.Marks {
			m.Reply = nil
			marks[i] = m
		}
		if err := state.Commit(ctx, marks, nil); err != nil {
			return nil, err
		}
	}
	return out, nil
}

// openTrace opens where -t sends the trace.
func openTrace(o *testOptions, stdout, stderr io.Writer) (io.Writer, func(), error) {
	switch o.trace {
	case "":
		return nil, func() {}, nil
	case "-":
		if o.json {
			return stderr, func() {}, nil
		}
		return stdout, func() {}, nil
	}
	f, err := os.Create(o.trace)
	if err != nil {
		return nil, nil, fmt.Errorf("trace: %w", err)
	}
	return f, func() { f.Close() }, nil
}

// stripMboxFrom drops an mbox "From " separator line in front of the
// header, as sieve-test's raw mail storage does.
func stripMboxFrom(raw []byte) []byte {
	if !bytes.HasPrefix(raw, []byte("From ")) {
		return raw
	}
	if i := bytes.IndexByte(raw, '\n'); i >= 0 {
		return raw[i+1:]
	}
	return nil
}

// defaultEnvelope takes the envelope from the flags, defaulting as
// sieve-test does: the sender from Return-Path, Sender or From, else
// sender@example.com; the recipient from Envelope-To or To, else
// recipient@example.com; the original recipient from the final one.
func defaultEnvelope(msg *sieve.Message, o *testOptions) sieve.Envelope {
	env := sieve.Envelope{From: mailaddr.TrimAngle(o.from), To: mailaddr.TrimAngle(o.to), OrigTo: mailaddr.TrimAngle(o.origTo)}
	if !o.fromSet {
		env.From = "sender@example.com"
		if a, ok := msg.FirstAddress("Return-Path", "Sender", "From"); ok {
			env.From = a
		}
	}
	if env.To == "" {
		env.To = "recipient@example.com"
		if a, ok := msg.FirstAddress("Envelope-To", "To"); ok {
			env.To = a
		}
	}
	if env.OrigTo == "" {
		env.OrigTo = env.To
	}
	return env
}

// doc is the JSON document of shared/difftest/README.md.
func (t *testOutcome) doc() map[string]any {
	if t.compileErrors != nil {
		return map[string]any{"compile_error": true, "errors": t.compileErrors}
	}
	actions := []map[string]any{}
	for _, a := range t.actions {
		m := map[string]any{"type": a.Kind()}
		switch a := a.(type) {
		case *sieve.Keep:
			if a.Implicit {
				continue
			}
			if len(a.Flags) > 0 {
				m["flags"] = a.Flags
			}
			if t.keepMailbox() != "INBOX" {
				m["mailbox"] = t.keepMailbox()
			}
		case *sieve.FileInto:
			m["mailbox"] = a.Mailbox
			if len(a.Flags) > 0 {
				m["flags"] = a.Flags
			}
			if a.Copy {
				m["copy"] = true
			}
		case *sieve.Redirect:
			m["address"] = a.Address
			if a.Copy {
				m["copy"] = true
			}
		case *sieve.Reject:
			m["reason"] = a.Reason
		case *sieve.Notify:
			m["method"] = a.Method
			m["importance"] = a.Importance
			if a.Mailto != nil {
				var to []string
				for _, r := range a.Mailto.Recipients {
					to = append(to, r.Address)
				}
				m["to"] = to
			}
		case *sieve.Report:
			m["feedback_type"] = a.FeedbackType
			m["address"] = a.Address
		case *sieve.Pipe:
			m["program"] = a.Program
			if len(a.Args) > 0 {
				m["args"] = a.Args
			}
		case *sieve.Vacation:
			v, ok := t.vacations[a]
			if !ok {
				continue
			}
			d := v.decision
			m["sent"] = d.Send
			m["detail"] = d.Detail
			if len(d.Warnings) > 0 {
				m["warnings"] = d.Warnings
			}
			if d.Send {
				m["envelope_from"] = v.reply.MailFrom
				m["envelope_to"] = v.reply.RcptTo
				m["message"] = string(v.reply.Message)
				m["key"] = map[string]string{"user": d.Key.User, "sender": d.Key.Sender, "handle": d.Key.Handle}
				if !d.Expires.IsZero() {
					m["expires"] = d.Expires.Format(time.RFC3339)
				}
				if len(v.reply.Warnings) > 0 {
					m["warnings"] = append(d.Warnings, v.reply.Warnings...)
				}
			} else {
				m["reason"] = string(d.Reason)
			}
		}
		actions = append(actions, m)
	}
	doc := map[string]any{"actions": actions, "implicit_keep": t.implicitKeep}
	if len(t.warnings) > 0 {
		doc["warnings"] = t.warnings
	}
	if len(t.compileWarnings) > 0 {
		doc["compile_warnings"] = t.compileWarnings
	}
	if t.runtimeError != "" {
		// A run that fails is reported like sieve-test reports it: the
		// script failed (compile_error, the flag the difftest contract has
		// for a script that fails), with the runtime error and the errors
		// list; implicit_keep says the service would keep the message.
		doc["runtime_error"] = t.runtimeError
		doc["compile_error"] = true
		doc["errors"] = []string{t.runtimeError}
	}
	return doc
}

// print writes the human report: the actions as sieve-test lists them,
// then the vacation reply or why there is none.
func (t *testOutcome) print(w, errw io.Writer) {
	if t.compileErrors != nil {
		for _, e := range t.compileErrors {
			fmt.Fprintln(errw, e)
		}
		fmt.Fprintln(errw, "vacationd test: script failed to compile")
		return
	}
	for _, warn := range t.compileWarnings {
		fmt.Fprintln(errw, warn)
	}
	for _, warn := range t.warnings {
		fmt.Fprintf(errw, "warning: %s\n", warn)
	}
	if t.runtimeError != "" {
		fmt.Fprintf(errw, "error: %s\n", t.runtimeError)
	}
	fmt.Fprintf(w, "Envelope: from <%s> to <%s> (original recipient <%s>)\n\n", t.envelope.From, t.envelope.To, t.envelope.OrigTo)
	fmt.Fprintln(w, "Performed actions:")
	fmt.Fprintln(w)
	n := 0
	var replies []vacationOutcome
	for _, a := range t.actions {
		switch a := a.(type) {
		case *sieve.Keep:
			if a.Implicit {
				continue
			}
			fmt.Fprintf(w, " * store message in folder: %s%s\n", t.keepMailbox(), flagsSuffix(a.Flags))
		case *sieve.FileInto:
			fmt.Fprintf(w, " * store message in folder: %s%s\n", a.Mailbox, flagsSuffix(a.Flags))
		case *sieve.Redirect:
			fmt.Fprintf(w, " * redirect message to: %s\n", a.Address)
		case *sieve.Discard:
			fmt.Fprintln(w, " * discard")
		case *sieve.Reject:
			fmt.Fprintf(w, " * %s message: %s\n", a.Kind(), a.Reason)
		case *sieve.Notify:
			var to []string
			if a.Mailto != nil {
				for _, r := range a.Mailto.Recipients {
					to = append(to, "<"+r.Address+">")
				}
			}
			fmt.Fprintf(w, " * send notification with method 'mailto:' to %s (importance %d)\n", strings.Join(to, ", "), a.Importance)
		case *sieve.Report:
			fmt.Fprintf(w, " * report incoming message as '%s' to: <%s>\n", a.FeedbackType, a.Address)
		case *sieve.Pipe:
			fmt.Fprintf(w, " * pipe message to program '%s'\n", a.Program)
		case *sieve.Vacation:
			v, ok := t.vacations[a]
			if !ok {
				fmt.Fprintln(w, " * send vacation message: not decided (the run failed)")
				break
			}
			replies = append(replies, v)
			if v.decision.Send {
				fmt.Fprintf(w, " * send vacation message to <%s>\n", v.decision.RcptTo)
			} else {
				fmt.Fprintf(w, " * send vacation message: suppressed (%s)\n", v.decision.Reason)
			}
		default:
			fmt.Fprintf(w, " * %s\n", a.Kind())
		}
		n++
	}
	if n == 0 {
		fmt.Fprintln(w, "  (none)")
	}
	fmt.Fprintln(w)
	fmt.Fprintln(w, "Implicit keep:")
	fmt.Fprintln(w)
	if t.implicitKeep {
		fmt.Fprintf(w, " * store message in folder: %s\n", t.keepMailbox())
	} else {
		fmt.Fprintln(w, "  (none)")
	}
	for _, v := range replies {
		d := v.decision
		fmt.Fprintln(w)
		for _, warn := range d.Warnings {
			fmt.Fprintf(errw, "warning: %s\n", warn)
		}
		if !d.Send {
			fmt.Fprintf(w, "No vacation reply: %s: %s\n", d.Reason, d.Detail)
			continue
		}
		for _, warn := range v.reply.Warnings {
			fmt.Fprintf(errw, "warning: %s\n", warn)
		}
		recorded := "not recorded (period 0: replies every time)"
		if !d.Expires.IsZero() {
			recorded = "suppresses further replies until " + d.Expires.Format(time.RFC3339)
		}
		fmt.Fprintf(w, "Vacation reply: MAIL FROM:<%s> RCPT TO:<%s>; %s\n", d.MailFrom, d.RcptTo, recorded)
		fmt.Fprintln(w, "START MESSAGE")
		fmt.Fprint(w, strings.ReplaceAll(string(v.reply.Message), "\r\n", "\n"))
		fmt.Fprintln(w, "END MESSAGE")
	}
	// The notifications and reports, as they would be queued.
	for _, a := range t.actions {
		rec, ok := t.mail[a]
		if !ok {
			continue
		}
		fmt.Fprintln(w)
		if rec == nil {
			fmt.Fprintf(w, "No %s sent (see the log)\n", a.Kind())
			continue
		}
		fmt.Fprintf(w, "%s: MAIL FROM:<%s> RCPT TO:<%s>\n", strings.ToUpper(a.Kind()[:1])+a.Kind()[1:], rec.From, strings.Join(rec.To, ">,<"))
		fmt.Fprintln(w, "START MESSAGE")
		fmt.Fprint(w, strings.ReplaceAll(string(rec.Message), "\r\n", "\n"))
		fmt.Fprintln(w, "END MESSAGE")
	}
}

func flagsSuffix(flags []string) string {
	if len(flags) == 0 {
		return ""
	}
	return " (flags: " + strings.Join(flags, " ") + ")"
}
