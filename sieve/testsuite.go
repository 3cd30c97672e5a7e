package sieve

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strings"
	"time"
)

// vnd.dovecot.testsuite: the test-only extension Pigeonhole's own test
// suite is written in. It is enabled only when Options.Testsuite is set.

// TestsuiteHooks connect the testsuite to the world outside the engine.
type TestsuiteHooks struct {
	// Load reads a script or file named relative to the test file.
	Load func(path string) ([]byte, error)
	// Resolver resolves includes of scripts compiled by the test.
	Resolver ScriptResolver
	// Vacation composes the reply for a vacation action when a result is
	// executed; it returns nil when no reply is sent.
	Vacation func(ctx context.Context, a *Vacation, msg *Message, env Envelope, settings Settings, now time.Time) (*SentMessage, error)
	// Output receives test_result_print output and diagnostics.
	Output io.Writer
}

// SentMessage is a message the testsuite captured instead of sending.
type SentMessage struct {
	From    string // envelope sender, "" for <>
	To      string // envelope recipient
	Message []byte
}

// TestOutcome is the result of one test block.
type TestOutcome struct {
	Name   string
	Pos    Position
	Passed bool
	Reason string
}

// TestsuiteReport lists the outcome of every test block that ran.
type TestsuiteReport struct {
	Tests []TestOutcome
}

// testsuiteRun is the state of one .svtest run.
type testsuiteRun struct {
	hooks    *TestsuiteHooks
	current  *TestOutcome
	report   *TestsuiteReport
	errors   []string // messages from the last compile or run
	compiled *Script
	result   *Result // result of test_script_run (or of the test itself)
	sent     []*SentMessage
	boxes    map[string][]*Message
	// flags holds the imap4flags flags of each stored message.
	flags    map[*Message][]string
	binaries map[string]*Script
	// extReload records extensions reloaded (settings are live anyway).
	msgForRun *Message
}

var errTestFailed = errors.New("test failed")

// RunTestsuite compiles and runs a .svtest script. Compile errors are
// returned as an ErrorList.
func RunTestsuite(ctx context.Context, name string, src []byte, hooks *TestsuiteHooks, settings Settings) (*TestsuiteReport, error) {
	if hooks == nil {
		hooks = &TestsuiteHooks{}
	}
	s, err := Compile(name, src, &Options{Testsuite: hooks, Resolver: hooks.Resolver, Settings: settings, Extensions: "+vacation-seconds +editheader +vnd.dovecot.debug +enotify"})
	if err != nil {
		return nil, err
	}
	env := &Env{
		Message:     ParseMessage([]byte("From: sender@example.com\r\nTo: recipient@example.org\r\nSubject: Frop!\r\n\r\nFrop!\r\n")),
		Envelope:    Envelope{From: "sender@example.com", To: "recipient@example.org", OrigTo: "recipient@example.org"},
		Settings:    settings.Clone(),
		Environment: testsuiteEnvironment(),
		Duplicates:  NewMemoryDuplicates(nil),
	}
	if env.Settings == nil {
		env.Settings = Settings{}
	}
	rep := &TestsuiteReport{}
	r := s.newRun(ctx, env)
	r.ts = &testsuiteRun{hooks: hooks, report: rep, boxes: map[string][]*Message{"INBOX": nil}, flags: map[*Message][]string{}, binaries: map[string]*Script{}}
	env.Mailboxes = r.ts
	err = r.exec(s.cmds)
	if errors.Is(err, errStop) {
		err = nil
	}
	return rep, err
}

func testsuiteExtension() *extension {
	msgTags := []tagSpec{{name: "smtp", group: "source"}, {name: "folder", arg: tString, group: "source"}}
	return &extension{name: "vnd.dovecot.testsuite", defaultOff: true, specs: []*spec{
		{name: "test", args: []argType{tString}, block: needBlock, exec: execTest},
		{name: "test_fail", args: []argType{tString}, exec: func(r *run, n *node) error {
			if r.ts != nil && r.ts.current != nil {
				r.ts.current.Reason = r.string(n.args[0])
			}
			return errTestFailed
		}},
		{name: "test_set", args: []argType{tString, tString}, exec: execTestSet},
		{name: "test_config_set", args: []argType{tString, tString}, exec: func(r *run, n *node) error {
			r.env.Settings[r.string(n.args[0])] = r.string(n.args[1])
			r.merged = nil
			return nil
		}},
		{name: "test_config_unset", args: []argType{tString}, exec: func(r *run, n *node) error {
			delete(r.env.Settings, r.string(n.args[0]))
			r.merged = nil
			return nil
		}},
		{name: "test_config_reload", tags: []tagSpec{{name: "extension", arg: tString}}, exec: func(r *run, n *node) error { return nil }},
		{name: "test_result_reset", exec: func(r *run, n *node) error {
			r.ts.result = nil
			r.res = &Result{}
			r.keep = true
			r.flags = nil
			return nil
		}},
		{name: "test_result_print", exec: func(r *run, n *node) error {
			if r.ts.hooks.Output != nil {
				for _, a := range r.ts.actions(r) {
					fmt.Fprintf(r.ts.hooks.Output, "  * %s\n", a)
				}
			}
			return nil
		}},
		{name: "test_mailbox_create", args: []argType{tString}, exec: func(r *run, n *node) error {
			name := mailboxKey(r.string(n.args[0]))
			if _, ok := r.ts.boxes[name]; !ok {
				r.ts.boxes[name] = nil
			}
			return nil
		}},
		{name: "test_binary_save", args: []argType{tString}, exec: func(r *run, n *node) error {
			if r.ts.compiled == nil {
				return r.errorf(n.pos, "no compiled script to save")
			}
			r.ts.binaries[r.string(n.args[0])] = r.ts.compiled
			return nil
		}},
		{name: "test_binary_load", args: []argType{tString}, exec: func(r *run, n *node) error {
			s, ok := r.ts.binaries[r.string(n.args[0])]
			if !ok {
				return r.errorf(n.pos, "binary %q not saved", r.string(n.args[0]))
			}
			r.ts.compiled = s
			return nil
		}},
		{name: "test_message", tags: msgTags, args: []argType{tNumber}, exec: func(r *run, n *node) error {
			ok, err := evalTestMessage(r, n)
			if err == nil && !ok {
				return r.errorf(n.pos, "test_message: no such message")
			}
			return err
		}},
		{name: "test_message", test: true, tags: msgTags, args: []argType{tNumber}, eval: evalTestMessage},
		{name: "test_script_compile", test: true, args: []argType{tString}, eval: evalScriptCompile},
		{name: "test_script_run", test: true, tags: []tagSpec{{name: "append_result"}}, eval: evalScriptRun},
		{name: "test_multiscript", test: true, args: []argType{tStringList}, eval: evalMultiscript},
		{name: "test_result_execute", test: true, eval: evalResultExecute},
		{name: "test_error", test: true, match: true, tags: []tagSpec{{name: "index", arg: tNumber}}, args: []argType{tStringList}, eval: func(r *run, n *node) (bool, error) {
			return r.matchIndexed(n, r.ts.errors, r.strings(n.args[0]))
		}},
		{name: "test_result_action", test: true, match: true, tags: []tagSpec{{name: "index", arg: tNumber}}, args: []argType{tStringList}, eval: func(r *run, n *node) (bool, error) {
			return r.matchIndexed(n, r.ts.actions(r), r.strings(n.args[0]))
		}},
		{name: "test_mailbox", test: true, tags: []tagSpec{{name: "exists"}}, args: []argType{tString}, eval: func(r *run, n *node) (bool, error) {
			return r.ts.MailboxExists(r.string(n.args[0])), nil
		}},
	}}
}

// matchIndexed matches list (1-based :index selects one item) against keys.
func (r *run) matchIndexed(n *node, list []string, keys []string) (bool, error) {
	if v := n.tagValue("index"); v != nil {
		i := int(v.num)
		if i < 1 || i > len(list) {
			return false, nil
		}
		list = list[i-1 : i]
	}
	if n.mt != mtCount && len(list) == 0 {
		return false, nil
	}
	return r.match(n, list, keys)
}

func execTest(r *run, n *node) error {
	if r.ts == nil {
		return r.errorf(n.pos, "test command outside the testsuite")
	}
	out := TestOutcome{Name: r.string(n.args[0]), Pos: n.pos, Passed: true}
	prev := r.ts.current
	r.ts.current = &out
	// A test starts from a clean result.
	saveRes, saveKeep := r.res, r.keep
	r.res, r.keep = &Result{}, true
	err := r.exec(n.block)
	r.stopped = false
	switch {
	case errors.Is(err, errTestFailed):
		out.Passed = false
	case errors.Is(err, errStop):
		// stop inside a test ends the test, which passed.
	case err != nil:
		out.Passed = false
		out.Reason = "runtime error: " + err.Error()
	}
	r.res, r.keep = saveRes, saveKeep
	r.ts.current = prev
	r.ts.report.Tests = append(r.ts.report.Tests, out)
	return nil
}

func execTestSet(r *run, n *node) error {
	name := r.string(n.args[0])
	val := r.string(n.args[1])
	switch strings.ToLower(name) {
	case "message":
		r.msg = ParseMessage([]byte(val))
		r.env.Message = r.msg
		// Like Pigeonhole's testsuite (and sieve-test), the envelope
		// follows the new message: Return-Path/Sender/From for the
		// sender, Envelope-To/To for the recipient.
		if a, ok := firstAddress(r.msg, "return-path", "sender", "from"); ok {
			r.env.Envelope.From = a
		}
		if a, ok := firstAddress(r.msg, "envelope-to", "to"); ok {
			r.env.Envelope.To = a
			r.env.Envelope.OrigTo = a
		}
		return nil
	case "envelope.from":
		r.env.Envelope.From = envelopePath(val)
	case "envelope.to":
		// Like Pigeonhole's testsuite, this sets the original recipient too.
		r.env.Envelope.To = envelopePath(val)
		r.env.Envelope.OrigTo = r.env.Envelope.To
	case "envelope.orig_to":
		r.env.Envelope.OrigTo = envelopePath(val)
	case "envelope.auth":
		r.env.Envelope.Auth = val
	default:
		if strings.HasPrefix(name, "variable.") || !strings.Contains(name, ".") {
			r.setVar(strings.TrimPrefix(name, "variable."), val)
			return nil
		}
		return r.errorf(n.pos, "test_set: unknown item %q", name)
	}
	return nil
}

// envelopePath normalizes a path set by test_set the way Pigeonhole's
// testsuite parses it; an invalid path is kept as written (and never
// matches).
func envelopePath(s string) string {
	a, null, ok := parseSMTPPath(strings.TrimSpace(s))
	switch {
	case !ok:
		return s
	case null:
		return ""
	}
	return a.smtpString()
}

func trimAngles(s string) string {
	s = strings.TrimSpace(s)
	if strings.HasPrefix(s, "<") && strings.HasSuffix(s, ">") {
		return s[1 : len(s)-1]
	}
	return s
}

func evalTestMessage(r *run, n *node) (bool, error) {
	idx := int(n.args[0].num)
	if n.has("smtp") {
		if idx >= len(r.ts.sent) {
			return false, nil
		}
		m := r.ts.sent[idx]
		r.msg = ParseMessage(m.Message)
		r.env.Envelope.From = m.From
		r.env.Envelope.To = m.To
		r.env.Envelope.OrigTo = m.To
		return true, nil
	}
	box := mailboxKey(r.string(n.tagValue("folder")))
	msgs := r.ts.boxes[box]
	if idx >= len(msgs) {
		return false, nil
	}
	r.msg = msgs[idx]
	r.flags = r.ts.flags[r.msg]
	return true, nil
}

// compileOptions are the options for scripts compiled by a test.
func (r *run) testCompileOptions() *Options {
	return &Options{Settings: r.env.Settings, Resolver: r.ts.hooks.Resolver, Testsuite: r.ts.hooks, Extensions: r.env.Settings.String("sieve_extensions", "+vacation-seconds +editheader +enotify")}
}

func (r *run) loadAndCompile(path string) (*Script, error) {
	if r.ts.hooks.Load == nil {
		return nil, fmt.Errorf("no script loader")
	}
	src, err := r.ts.hooks.Load(path)
	if err != nil {
		return nil, err
	}
	name := path
	if i := strings.LastIndexByte(name, '/'); i >= 0 {
		name = name[i+1:]
	}
	name = strings.TrimSuffix(name, ".sieve")
	s, stage, err := compile(name, src, r.testCompileOptions())
	var el ErrorList
	if errors.As(err, &el) {
		// Pigeonhole logs a closing error after the script's own ones.
		el = append(el[:len(el):len(el)], &Error{Pos: Position{File: name}, Msg: stage.failure()})
		return nil, el
	}
	return s, err
}

func (r *run) setCompileErrors(err error) {
	r.ts.errors = nil
	var el ErrorList
	if errors.As(err, &el) {
		for _, e := range el {
			r.ts.errors = append(r.ts.errors, e.Msg)
		}
	} else if err != nil {
		r.ts.errors = append(r.ts.errors, err.Error())
	}
}

func evalScriptCompile(r *run, n *node) (bool, error) {
	s, err := r.loadAndCompile(r.string(n.args[0]))
	r.setCompileErrors(err)
	if err != nil {
		r.ts.compiled = nil
		return false, nil
	}
	r.ts.compiled = s
	return true, nil
}

// subEnv is the environment for scripts run by the test.
func (r *run) subEnv() *Env {
	e := *r.env
	e.Message = r.msg
	e.Trace = nil
	return &e
}

func evalScriptRun(r *run, n *node) (bool, error) {
	s := r.ts.compiled
	if s == nil {
		return false, nil
	}
	res, err := s.Run(r.ctx, r.subEnv())
	r.ts.errors = nil
	r.ts.errors = append(r.ts.errors, res.Errors...)
	if err != nil {
		r.ts.errors = append(r.ts.errors, err.(*Error).Msg)
		return false, nil
	}
	if n.has("append_result") && r.ts.result != nil {
		prev := r.ts.result
		sub := &run{ctx: r.ctx, env: r.env, res: prev, keep: prev.ImplicitKeep, root: s, script: s}
		for _, a := range res.Actions {
			if err := sub.addAction(a); err != nil {
				r.ts.errors = append(r.ts.errors, err.(*Error).Msg)
				return false, nil
			}
		}
		prev.ImplicitKeep = sub.keep && res.ImplicitKeep
		prev.Message = res.Message
		return true, nil
	}
	r.ts.result = res
	return true, nil
}

func evalMultiscript(r *run, n *node) (bool, error) {
	var scripts []*Script
	for _, p := range r.strings(n.args[0]) {
		s, err := r.loadAndCompile(p)
		if err != nil {
			r.setCompileErrors(err)
			return false, nil
		}
		scripts = append(scripts, s)
	}
	res, err := RunMulti(r.ctx, scripts, r.subEnv())
	if err != nil {
		return false, nil
	}
	if err := r.ts.execute(r, res); err != nil {
		return false, nil
	}
	return true, nil
}

// currentResult is the result test_result_* commands look at: the one of
// test_script_run, else the test's own actions.
func (ts *testsuiteRun) currentResult(r *run) *Result {
	if ts.result != nil {
		return ts.result
	}
	r.res.ImplicitKeep = r.keep
	r.res.ImplicitFlags = r.flags
	r.res.Message = r.msg
	return r.res
}

// actions names the actions of the current result as Pigeonhole does.
func (ts *testsuiteRun) actions(r *run) []string {
	res := ts.currentResult(r)
	var out []string
	for _, a := range res.Actions {
		switch a := a.(type) {
		case *Keep:
			out = append(out, "keep")
		case *FileInto:
			out = append(out, "store")
		case *Reject:
			out = append(out, "reject")
		default:
			out = append(out, a.Kind())
		}
	}
	if res.ImplicitKeep {
		out = append(out, "keep")
	}
	return out
}

func evalResultExecute(r *run, n *node) (bool, error) {
	res := r.ts.currentResult(r)
	r.ts.sent = nil
	if err := r.ts.execute(r, res); err != nil {
		r.ts.errors = append(r.ts.errors[:0], err.Error())
		return false, nil
	}
	return true, nil
}

// execute carries out a result against the in-memory mail store and the
// captured outgoing mail.
func (ts *testsuiteRun) execute(r *run, res *Result) error {
	msg := res.Message
	if msg == nil {
		msg = r.msg
	}
	env := r.env.Envelope
	// Storing into a missing mailbox fails the whole result, as in
	// Pigeonhole; the implicit keep then stores the message as received.
	for _, a := range res.Actions {
		if f, ok := a.(*FileInto); ok && storageNameInvalid(f.Mailbox) {
			ts.store("INBOX", r.msg, nil)
			return fmt.Errorf("failed to store into mailbox '%s': Invalid mailbox name: Name has an empty hierarchy level", sanitize(f.Mailbox, 256))
		}
		if f, ok := a.(*FileInto); ok && !f.Create && !ts.MailboxExists(f.Mailbox) {
			ts.store("INBOX", r.msg, nil)
			return fmt.Errorf("failed to store into mailbox '%s': Mailbox doesn't exist: %s", f.Mailbox, f.Mailbox)
		}
	}
	if d, ok := r.env.Duplicates.(*MemoryDuplicates); ok {
		d.Record(res.Duplicates)
	}
	// Actions carried out by an earlier test_result_execute are not
	// repeated.
	done := res.executed
	res.executed = len(res.Actions)
	loopKeep := false
	for _, a := range res.Actions[done:] {
		switch a := a.(type) {
		case *Keep:
			ts.store("INBOX", actionMessage(a, msg), a.Flags)
		case *FileInto:
			ts.store(a.Mailbox, actionMessage(a, msg), a.Flags)
		case *Redirect:
			d := PlanRedirect(r.settings(), env, msg)
			if d.Loop {
				// Not sent again; the message is kept instead.
				loopKeep = loopKeep || !a.Copy
				continue
			}
			ts.sent = append(ts.sent, &SentMessage{From: d.From, To: a.Address, Message: d.Message(actionMessage(a, msg))})
		case *Reject:
			if env.From != "" {
				ts.sent = append(ts.sent, &SentMessage{From: "", To: env.From, Message: rejectMessage(a, msg, env, r.settings())})
			}
		case *Notify:
			sms, err := a.mailtoMessages(msg, env)
			if err != nil {
				return err
			}
			ts.sent = append(ts.sent, sms...)
		case *Vacation:
			if ts.hooks.Vacation == nil {
				continue
			}
			sm, err := ts.hooks.Vacation(r.ctx, a, msg, env, r.env.Settings, r.now)
			if err != nil {
				return err
			}
			if sm != nil {
				ts.sent = append(ts.sent, sm)
			}
		}
	}
	if res.ImplicitKeep || loopKeep {
		ts.store("INBOX", msg, res.ImplicitFlags)
	}
	return nil
}

// store saves a copy of m with its flags. Like Dovecot with attachment
// detection on (as in Pigeonhole's testsuite), saving adds the
// $HasNoAttachment keyword.
func (ts *testsuiteRun) store(box string, m *Message, flags []string) {
	c := *m
	box = mailboxKey(box)
	ts.boxes[box] = append(ts.boxes[box], &c)
	ts.flags[&c] = addFlags(flags, []string{"$HasNoAttachment"})
}

// MailboxExists reports whether the test mail store has the mailbox.
func (ts *testsuiteRun) MailboxExists(name string) bool {
	_, ok := ts.boxes[mailboxKey(name)]
	return ok
}

// mailboxKey names a mailbox of the test store: INBOX and its children
// ("INBOX.x") are case-insensitive, as in Dovecot.
func mailboxKey(name string) string {
	if len(name) >= 5 && strings.EqualFold(name[:5], "INBOX") && (len(name) == 5 || name[5] == '.') {
		return "INBOX" + name[5:]
	}
	return name
}

// rejectMessage builds the rejection notice (a minimal MDN-like message).
func rejectMessage(a *Reject, msg *Message, env Envelope, settings Settings) []byte {
	var b strings.Builder
	b.WriteString("From: " + postmasterAddress(settings, env) + "\r\n")
	b.WriteString("To: <" + env.From + ">\r\n")
	subj := ""
	if s := msg.HeaderDecoded("subject"); len(s) > 0 {
		subj = s[0]
	}
	b.WriteString("Subject: Automatically rejected mail\r\n")
	b.WriteString("Auto-Submitted: auto-replied (rejected)\r\n")
	b.WriteString("Precedence: bulk\r\n\r\n")
	b.WriteString("Your message to <" + env.To + "> was automatically rejected:\r\n")
	b.WriteString(a.Reason + "\r\n")
	if subj != "" {
		b.WriteString("\r\nOriginal subject: " + subj + "\r\n")
	}
	return []byte(b.String())
}

// firstAddress returns the first address found in the first of the named
// header fields that holds one.
func firstAddress(m *Message, names ...string) (string, bool) {
	for _, name := range names {
		for _, v := range m.Header(name) {
			if addrs, _ := parseAddressList(v); len(addrs) > 0 && addrs[0].local != "" {
				return addrs[0].String(), true
			}
		}
	}
	return "", false
}

// storageNameInvalid reports mailbox names the test mail store (with '/'
// as hierarchy separator, like Dovecot's) refuses: empty hierarchy levels.
func storageNameInvalid(name string) bool {
	return strings.Contains(name, "//") || strings.HasPrefix(name, "/") || strings.HasSuffix(name, "/")
}

// postmasterAddress is the From of rejections: postmaster_address when set,
// else Postmaster at the recipient's domain (Dovecot's default).
func postmasterAddress(settings Settings, env Envelope) string {
	if pm := strings.TrimSpace(settings.String("postmaster_address", "")); pm != "" {
		return pm
	}
	domain := "localhost"
	if a, null, ok := parseSMTPPath(env.To); ok && !null && a.domain != "" {
		domain = a.domain
	}
	return "Postmaster <postmaster@" + domain + ">"
}
