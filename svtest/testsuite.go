package svtest

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/vacationd/vacationd/sieve"
)

// vnd.dovecot.testsuite: the test-only extension Pigeonhole's own test
// suite is written in. It is not part of the engine: it is registered
// through the sieve package's extension API (sieve.NewRegistry) for the
// scripts this package runs, and nowhere else.

// Hooks connect the testsuite to the world outside the engine.
type Hooks struct {
	// Load reads a script or file named relative to the test file.
	Load func(path string) ([]byte, error)
	// Resolver resolves includes of scripts compiled by the test.
	Resolver sieve.ScriptResolver
	// Vacation composes the reply for a vacation action when a result is
	// executed; it returns nil when no reply is sent.
	Vacation VacationFunc
	// Mail composes the messages of notify and report actions when a
	// result is executed, one per envelope recipient; none when nothing
	// is sent.
	Mail MailFunc
	// Lists makes the extlists source from the settings; it is called
	// again at every test_config_reload.
	Lists func(settings sieve.Settings) (sieve.ListSource, error)
	// Programs runs the programs of the extprograms extensions.
	Programs sieve.ProgramRunner
	// Dir is the directory of the test file, the value of ${tst.path}.
	Dir string
	// Output receives test_result_print output and diagnostics.
	Output io.Writer
}

// MailFunc composes the messages of a notify or report action.
type MailFunc func(ctx context.Context, a sieve.Action, msg *sieve.Message, env sieve.Envelope, settings sieve.Settings, now time.Time) ([]*sieve.SentMessage, error)

// VacationFunc composes the reply to a vacation action, nil when none is
// sent.
type VacationFunc func(ctx context.Context, a *sieve.Vacation, msg *sieve.Message, env sieve.Envelope, settings sieve.Settings, now time.Time) (*sieve.SentMessage, error)

// Outcome is the result of one test block.
type Outcome struct {
	Name   string
	Pos    sieve.Position
	Passed bool
	Reason string
}

// Report lists the outcome of every test block that ran.
type Report struct {
	Tests []Outcome
}

const testsuiteName = "vnd.dovecot.testsuite"

// allExtensions enables every extension the registry knows, those off by
// default included: like Pigeonhole's testsuite, test files and the
// scripts they compile require what they test (unless a test sets
// sieve_extensions).
func allExtensions(reg *sieve.Registry) string {
	var b strings.Builder
	for _, name := range reg.Names() {
		b.WriteString(" +" + name)
	}
	return b.String()
}

// suiteEnvironment is the environment of testsuite runs: Pigeonhole's
// suite checks the implementation's name and that its testsuite runs at
// location "MS" (mail server), so the harness presents those values the
// way Pigeonhole's testsuite does.
func suiteEnvironment() map[string]string {
	return map[string]string{"name": "Pigeonhole Sieve", "location": "MS", "host": "testsuite.example.com"}
}

// suite is the state of one .svtest run.
type suite struct {
	hooks    *Hooks
	reg      *sieve.Registry
	all      string // allExtensions(reg)
	current  *Outcome
	report   *Report
	errors   []string // messages from the last compile or run
	compiled *sieve.Script
	result   *sieve.Result // result of test_script_run
	sent     []*sieve.SentMessage
	boxes    map[string][]*sieve.Message
	// flags holds the imap4flags flags of each stored message.
	flags    map[*sieve.Message][]string
	binaries map[string]*sieve.Script
	// metadata holds test_imap_metadata_set entries by mailbox ("" for
	// the server) and entry name.
	metadata map[[2]string]string
}

var errTestFailed = errors.New("test failed")

// RunFile compiles and runs a .svtest script. Compile errors are returned
// as a sieve.ErrorList.
func RunFile(ctx context.Context, name string, src []byte, hooks *Hooks, settings sieve.Settings) (*Report, error) {
	if hooks == nil {
		hooks = &Hooks{}
	}
	ts := &suite{hooks: hooks, report: &Report{}, boxes: map[string][]*sieve.Message{"INBOX": nil},
		flags: map[*sieve.Message][]string{}, binaries: map[string]*sieve.Script{}}
	reg, err := sieve.NewRegistry(ts.extension())
	if err != nil {
		return nil, err
	}
	ts.reg, ts.all = reg, allExtensions(reg)
	s, err := sieve.Compile(name, src, &sieve.Options{Registry: reg, Resolver: hooks.Resolver, Settings: settings,
		Extensions: ts.all})
	if err != nil {
		return nil, err
	}
	env := &sieve.Env{
		Message:     sieve.ParseMessage([]byte("From: sender@example.com\r\nTo: recipient@example.org\r\nSubject: Frop!\r\n\r\nFrop!\r\n")),
		Envelope:    sieve.Envelope{From: "sender@example.com", To: "recipient@example.org", OrigTo: "recipient@example.org"},
		Settings:    settings.Clone(),
		Environment: suiteEnvironment(),
		Duplicates:  sieve.NewMemoryDuplicates(nil),
		Mailboxes:   ts,
		Metadata:    ts,
		Programs:    hooks.Programs,
		Variables: func(name string) (string, bool) {
			if name == "tst.path" {
				return hooks.Dir, true
			}
			return "", false
		},
	}
	if env.Settings == nil {
		env.Settings = sieve.Settings{}
	}
	_, err = s.Run(ctx, env)
	return ts.report, err
}

func (ts *suite) extension() *sieve.Extension {
	msgTags := []sieve.Tag{{Name: "smtp", Group: "source"}, {Name: "folder", Arg: sieve.ArgString, Group: "source"}}
	index := []sieve.Tag{{Name: "index", Arg: sieve.ArgNumber}}
	str, strs, num := sieve.ArgString, sieve.ArgStringList, sieve.ArgNumber
	return &sieve.Extension{Name: testsuiteName, DefaultOff: true, Namespaces: []string{"tst"}, Commands: []*sieve.Command{
		{Name: "test", Args: []sieve.ArgType{str}, Block: true, Exec: ts.execTest},
		{Name: "test_fail", Args: []sieve.ArgType{str}, Exec: func(c *sieve.Call) error {
			if ts.current != nil {
				ts.current.Reason = c.String(0)
			}
			return errTestFailed
		}},
		{Name: "test_set", Args: []sieve.ArgType{str, str}, Exec: ts.execSet},
		{Name: "test_config_set", Args: []sieve.ArgType{str, str}, Exec: func(c *sieve.Call) error {
			c.SetSetting(c.String(0), c.String(1))
			return nil
		}},
		{Name: "test_config_unset", Args: []sieve.ArgType{str}, Exec: func(c *sieve.Call) error {
			c.UnsetSetting(c.String(0))
			return nil
		}},
		// Settings are read live; only the lists are made anew.
		{Name: "test_config_reload", Tags: []sieve.Tag{{Name: "extension", Arg: str}}, Exec: func(c *sieve.Call) error {
			if ts.hooks.Lists == nil {
				return nil
			}
			l, err := ts.hooks.Lists(c.Settings())
			if err != nil {
				return c.Errorf("test_config_reload: %v", err)
			}
			c.Env().Lists = l
			return nil
		}},
		{Name: "test_result_reset", Exec: func(c *sieve.Call) error {
			// The message returns to the one set last: filter output
			// and header edits belong to the result.
			c.RevertMessage()
			ts.result = nil
			c.SwapResult()
			c.SetFlags(nil)
			return nil
		}},
		{Name: "test_result_print", Exec: func(c *sieve.Call) error {
			if ts.hooks.Output != nil {
				for _, a := range ts.actions(c) {
					fmt.Fprintf(ts.hooks.Output, "  * %s\n", a)
				}
			}
			return nil
		}},
		{Name: "test_mailbox_create", Args: []sieve.ArgType{str}, Exec: func(c *sieve.Call) error {
			name := mailboxKey(c.String(0))
			if _, ok := ts.boxes[name]; !ok {
				ts.boxes[name] = nil
			}
			return nil
		}},
		{Name: "test_imap_metadata_set", Tags: []sieve.Tag{{Name: "mailbox", Arg: str}}, Args: []sieve.ArgType{str, str}, Exec: func(c *sieve.Call) error {
			if ts.metadata == nil {
				ts.metadata = map[[2]string]string{}
			}
			ts.metadata[[2]string{mailboxKey(c.TagString("mailbox")), c.String(0)}] = c.String(1)
			return nil
		}},
		{Name: "test_binary_save", Args: []sieve.ArgType{str}, Exec: func(c *sieve.Call) error {
			if ts.compiled == nil {
				return c.Errorf("no compiled script to save")
			}
			ts.binaries[c.String(0)] = ts.compiled
			return nil
		}},
		{Name: "test_binary_load", Args: []sieve.ArgType{str}, Exec: func(c *sieve.Call) error {
			s, ok := ts.binaries[c.String(0)]
			if !ok {
				return c.Errorf("binary %q not saved", c.String(0))
			}
			ts.compiled = s
			return nil
		}},
		{Name: "test_message", Tags: msgTags, Args: []sieve.ArgType{num}, Exec: func(c *sieve.Call) error {
			ok, err := ts.evalMessage(c)
			if err == nil && !ok {
				return c.Errorf("test_message: no such message")
			}
			return err
		}},
		{Name: "test_message", Test: true, Tags: msgTags, Args: []sieve.ArgType{num}, Eval: ts.evalMessage},
		{Name: "test_script_compile", Test: true, Args: []sieve.ArgType{str}, Eval: ts.evalScriptCompile},
		{Name: "test_script_run", Test: true, Tags: []sieve.Tag{{Name: "append_result"}}, Eval: ts.evalScriptRun},
		{Name: "test_multiscript", Test: true, Args: []sieve.ArgType{strs}, Eval: ts.evalMultiscript},
		{Name: "test_result_execute", Test: true, Eval: ts.evalResultExecute},
		{Name: "test_error", Test: true, Match: true, Tags: index, Args: []sieve.ArgType{strs}, Eval: func(c *sieve.Call) (bool, error) {
			return matchIndexed(c, ts.errors, c.Strings(0))
		}},
		{Name: "test_result_action", Test: true, Match: true, Tags: index, Args: []sieve.ArgType{strs}, Eval: func(c *sieve.Call) (bool, error) {
			return matchIndexed(c, ts.actions(c), c.Strings(0))
		}},
		{Name: "test_mailbox", Test: true, Tags: []sieve.Tag{{Name: "exists"}}, Args: []sieve.ArgType{str}, Eval: func(c *sieve.Call) (bool, error) {
			return ts.MailboxExists(c.String(0)), nil
		}},
	}}
}

// matchIndexed matches list (1-based :index selects one item) against keys.
func matchIndexed(c *sieve.Call, list []string, keys []string) (bool, error) {
	if i, ok := c.TagNumber("index"); ok {
		if i < 1 || i > uint64(len(list)) {
			return false, nil
		}
		list = list[i-1 : i]
	}
	if !c.Counting() && len(list) == 0 {
		return false, nil
	}
	return c.Match(list, keys)
}

func (ts *suite) execTest(c *sieve.Call) error {
	out := Outcome{Name: c.String(0), Pos: c.Pos(), Passed: true}
	prev := ts.current
	ts.current = &out
	// A test starts from a clean result; a stop inside it ends the test,
	// which passed.
	saved := c.SwapResult()
	_, err := c.ExecBlock()
	switch {
	case errors.Is(err, errTestFailed):
		out.Passed = false
	case err != nil:
		out.Passed = false
		out.Reason = "runtime error: " + err.Error()
	}
	c.RestoreResult(saved)
	ts.current = prev
	ts.report.Tests = append(ts.report.Tests, out)
	return nil
}

func (ts *suite) execSet(c *sieve.Call) error {
	name, val := c.String(0), c.String(1)
	env := &c.Env().Envelope
	switch strings.ToLower(name) {
	case "message":
		m := sieve.ParseMessage([]byte(val))
		c.SetMessage(m)
		c.Env().Message = m
		// Like Pigeonhole's testsuite (and sieve-test), the envelope
		// follows the new message: Return-Path/Sender/From for the
		// sender, Envelope-To/To for the recipient.
		if a, ok := m.FirstAddress("return-path", "sender", "from"); ok {
			env.From = a
		}
		if a, ok := m.FirstAddress("envelope-to", "to"); ok {
			env.To = a
			env.OrigTo = a
		}
	case "envelope.from":
		env.From = envelopePath(val)
	case "envelope.to":
		// Like Pigeonhole's testsuite, this sets the original recipient too.
		env.To = envelopePath(val)
		env.OrigTo = env.To
	case "envelope.orig_to":
		env.OrigTo = envelopePath(val)
	case "envelope.auth":
		env.Auth = val
	default:
		if strings.HasPrefix(name, "variable.") || !strings.Contains(name, ".") {
			c.SetVariable(strings.TrimPrefix(name, "variable."), val)
			return nil
		}
		return c.Errorf("test_set: unknown item %q", name)
	}
	return nil
}

// envelopePath normalizes a path set by test_set the way Pigeonhole's
// testsuite parses it; an invalid path is kept as written (and never
// matches).
func envelopePath(s string) string {
	if p, ok := sieve.NormalizePath(s); ok {
		return p
	}
	return s
}

func (ts *suite) evalMessage(c *sieve.Call) (bool, error) {
	idx := c.Number(0)
	if c.Has("smtp") {
		if idx >= uint64(len(ts.sent)) {
			return false, nil
		}
		m := ts.sent[idx]
		c.SetMessage(sieve.ParseMessage(m.Message))
		env := &c.Env().Envelope
		env.From, env.To, env.OrigTo = m.From, m.To, m.To
		return true, nil
	}
	msgs := ts.boxes[mailboxKey(c.TagString("folder"))]
	if idx >= uint64(len(msgs)) {
		return false, nil
	}
	c.SetMessage(msgs[idx])
	c.SetFlags(ts.flags[msgs[idx]])
	return true, nil
}

// compileOptions are the options for scripts compiled by a test.
func (ts *suite) compileOptions(c *sieve.Call) *sieve.Options {
	settings := c.Env().Settings
	return &sieve.Options{Settings: settings, Resolver: ts.hooks.Resolver, Registry: ts.reg,
		Extensions: settings.String("sieve_extensions", ts.all) + " +" + testsuiteName}
}

func (ts *suite) loadAndCompile(c *sieve.Call, path string) (*sieve.Script, error) {
	if ts.hooks.Load == nil {
		return nil, fmt.Errorf("no script loader")
	}
	src, err := ts.hooks.Load(path)
	if err != nil {
		return nil, err
	}
	name := path
	if i := strings.LastIndexByte(name, '/'); i >= 0 {
		name = name[i+1:]
	}
	name = strings.TrimSuffix(name, ".sieve")
	s, summary, err := sieve.CompileReport(name, src, ts.compileOptions(c))
	var el sieve.ErrorList
	if errors.As(err, &el) {
		// Pigeonhole logs a closing error after the script's own ones.
		el = append(el[:len(el):len(el)], &sieve.Error{Pos: sieve.Position{File: name}, Msg: summary})
		return nil, el
	}
	return s, err
}

func (ts *suite) setCompileErrors(err error) {
	ts.errors = nil
	var el sieve.ErrorList
	if errors.As(err, &el) {
		for _, e := range el {
			ts.errors = append(ts.errors, e.Msg)
		}
	} else if err != nil {
		ts.errors = append(ts.errors, err.Error())
	}
}

func (ts *suite) evalScriptCompile(c *sieve.Call) (bool, error) {
	s, err := ts.loadAndCompile(c, c.String(0))
	ts.setCompileErrors(err)
	if err != nil {
		ts.compiled = nil
		return false, nil
	}
	ts.compiled = s
	return true, nil
}

// subEnv is the environment for scripts run by the test.
func subEnv(c *sieve.Call) *sieve.Env {
	e := *c.Env()
	e.Message = c.Message()
	e.Trace = nil
	return &e
}

// errorMessage is the message of a runtime error without its position.
func errorMessage(err error) string {
	var se *sieve.Error
	if errors.As(err, &se) {
		return se.Msg
	}
	return err.Error()
}

func (ts *suite) evalScriptRun(c *sieve.Call) (bool, error) {
	s := ts.compiled
	if s == nil {
		return false, nil
	}
	res, err := s.Run(c.Context(), subEnv(c))
	ts.errors = append([]string(nil), res.Errors...)
	if err != nil {
		ts.errors = append(ts.errors, errorMessage(err))
		return false, nil
	}
	if c.Has("append_result") && ts.result != nil {
		if err := sieve.AppendResult(c.Context(), s, c.Env(), ts.result, res); err != nil {
			ts.errors = append(ts.errors, errorMessage(err))
			return false, nil
		}
		return true, nil
	}
	ts.result = res
	return true, nil
}

func (ts *suite) evalMultiscript(c *sieve.Call) (bool, error) {
	var scripts []*sieve.Script
	for _, p := range c.Strings(0) {
		s, err := ts.loadAndCompile(c, p)
		if err != nil {
			ts.setCompileErrors(err)
			return false, nil
		}
		scripts = append(scripts, s)
	}
	res, err := sieve.RunMulti(c.Context(), scripts, subEnv(c))
	if err != nil {
		return false, nil
	}
	if err := ts.execute(c, res); err != nil {
		return false, nil
	}
	return true, nil
}

// currentResult is the result test_result_* commands look at: the one of
// test_script_run, else the test's own actions.
func (ts *suite) currentResult(c *sieve.Call) *sieve.Result {
	if ts.result != nil {
		return ts.result
	}
	return c.Result()
}

// actions names the actions of the current result as Pigeonhole does.
func (ts *suite) actions(c *sieve.Call) []string {
	res := ts.currentResult(c)
	var out []string
	for _, a := range res.Actions {
		switch a.(type) {
		case *sieve.Keep:
			out = append(out, "keep")
		case *sieve.FileInto:
			out = append(out, "store")
		case *sieve.Reject:
			out = append(out, "reject")
		default:
			out = append(out, a.Kind())
		}
	}
	// Like Pigeonhole's, the list holds the actions of the result; the
	// implicit keep is not one of them until the result is executed.
	return out
}

func (ts *suite) evalResultExecute(c *sieve.Call) (bool, error) {
	res := ts.currentResult(c)
	ts.sent = nil
	ts.errors = ts.errors[:0]
	if err := ts.execute(c, res); err != nil {
		ts.errors = append(ts.errors, err.Error())
		return false, nil
	}
	return true, nil
}
