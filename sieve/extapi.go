package sieve

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"slices"
	"time"
)

// The extension API: how code outside this package adds a capability
// (Pigeonhole's vnd.dovecot.testsuite lives in package svtest this way).
// An Extension lists the commands and tests it brings; NewRegistry adds it
// to the engine's own table, and Options.Registry hands that table to
// Compile. The engine's built-in extensions live in the same table and
// obey the same rules: a command exists only in scripts that require its
// capability, and a capability is only requirable when it is enabled
// (Options.Extensions; DefaultOff ones need "+name").

// ArgType is the type of a positional argument or of a tag's argument.
type ArgType = argType

// The argument types.
const (
	ArgNone       = tNone       // a tag without an argument
	ArgString     = tString     // a single string
	ArgStringList = tStringList // a string or a string list
	ArgNumber     = tNumber     // a number
)

// Extension is a capability defined outside this package.
type Extension struct {
	// Name is the capability scripts require.
	Name string
	// Commands are the commands and tests it brings.
	Commands []*Command
	// Implies lists capabilities that requiring this one also requires.
	Implies []string
	// DefaultOff extensions are known but must be enabled ("+Name").
	DefaultOff bool
	// Namespaces are variable namespaces ("tst" for "${tst.x}") that
	// scripts requiring the capability may use.
	Namespaces []string
}

// Tag is a tagged argument (":name") of a command or test.
type Tag struct {
	Name  string  // without ':'
	Arg   ArgType // what follows the tag; ArgNone for a flag
	Group string  // tags of one group exclude each other
}

// Command describes a command (Exec) or a test (Test, Eval). Arguments are
// validated against Tags, Args and OptionalArgs before the script compiles;
// Exec and Eval only see valid calls.
type Command struct {
	Name         string
	Test         bool
	Tags         []Tag
	Args         []ArgType // positional arguments, in order
	OptionalArgs int       // how many trailing Args may be left out
	// ArgNames name positional arguments in error messages.
	ArgNames []string
	// Match accepts :comparator and a match type (:is, :contains,
	// :matches, :regex, :count, :value), used by Call.Match.
	Match bool
	// Block: the command takes a block, which Call.ExecBlock runs.
	Block bool
	Exec  func(c *Call) error
	Eval  func(c *Call) (bool, error)
}

// Registry is a table of the extensions scripts may require. The zero
// Registry (and nil) is the engine's own table. A Registry is immutable
// and safe for concurrent use.
type Registry struct {
	r *registry
}

// NewRegistry returns the engine's extensions plus exts. It fails when a
// name is empty or taken.
func NewRegistry(exts ...*Extension) (*Registry, error) {
	std := stdRegistry()
	r := &registry{exts: maps.Clone(std.exts), specs: map[string][]*spec{}}
	for name, ss := range std.specs {
		r.specs[name] = slices.Clone(ss)
	}
	for _, e := range exts {
		if e.Name == "" {
			return nil, errors.New("sieve: extension without a name")
		}
		if _, dup := r.exts[e.Name]; dup {
			return nil, fmt.Errorf("sieve: extension %q is already registered", e.Name)
		}
		r.add(e.internal())
	}
	return &Registry{r: r}, nil
}

func (g *Registry) registry() *registry {
	if g == nil || g.r == nil {
		return stdRegistry()
	}
	return g.r
}

func (e *Extension) internal() *extension {
	ie := &extension{name: e.Name, implies: e.Implies, defaultOff: e.DefaultOff, namespaces: e.Namespaces}
	for _, cmd := range e.Commands {
		s := &spec{name: cmd.Name, test: cmd.Test, args: cmd.Args, optArg: cmd.OptionalArgs,
			argNames: cmd.ArgNames, match: cmd.Match}
		for _, t := range cmd.Tags {
			s.tags = append(s.tags, tagSpec{name: t.Name, arg: t.Arg, group: t.Group})
		}
		if cmd.Block {
			s.block = needBlock
		}
		if f := cmd.Exec; f != nil {
			s.exec = func(r *run, n *node) error { return f(&Call{r: r, n: n}) }
		}
		if f := cmd.Eval; f != nil {
			s.eval = func(r *run, n *node) (bool, error) { return f(&Call{r: r, n: n}) }
		}
		if s.exec == nil && s.eval == nil {
			// A command that does nothing still needs a body.
			s.exec = func(*run, *node) error { return nil }
		}
		ie.specs = append(ie.specs, s)
	}
	return ie
}

// Call is one execution of an extension's command or test: its arguments,
// and the run it belongs to. It is valid only during Exec or Eval.
type Call struct {
	r *run
	n *node
}

// Pos is where the command is in its script.
func (c *Call) Pos() Position { return c.n.pos }

// Context is the run's context.
func (c *Call) Context() context.Context { return c.r.ctx }

// String is positional argument i (a string), variables expanded.
func (c *Call) String(i int) string { return c.r.string(c.arg(i)) }

// Strings is positional argument i (a string list), variables expanded.
func (c *Call) Strings(i int) []string { return c.r.strings(c.arg(i)) }

// Number is positional argument i (a number).
func (c *Call) Number(i int) uint64 {
	if v := c.arg(i); v != nil {
		return v.num
	}
	return 0
}

func (c *Call) arg(i int) *value {
	if i < 0 || i >= len(c.n.args) {
		return nil
	}
	return c.n.args[i]
}

// Has reports whether tag (without ':') was given.
func (c *Call) Has(tag string) bool { return c.n.has(tag) }

// TagString is the expanded string argument of tag, "" when absent.
func (c *Call) TagString(tag string) string { return c.r.string(c.n.tagValue(tag)) }

// TagNumber is the number argument of tag and whether the tag was given.
func (c *Call) TagNumber(tag string) (uint64, bool) {
	v := c.n.tagValue(tag)
	if v == nil {
		return 0, false
	}
	return v.num, true
}

// Match matches values against keys with the call's comparator and match
// type (for Commands with Match), setting match variables as tests do.
func (c *Call) Match(values, keys []string) (bool, error) { return c.r.match(c.n, values, keys) }

// Counting reports whether the match type is :count.
func (c *Call) Counting() bool { return c.n.mt == mtCount }

// Errorf returns a runtime error at the command's position; returned from
// Exec or Eval it ends the run.
func (c *Call) Errorf(format string, args ...any) error { return c.r.errorf(c.n.pos, format, args...) }

// Env is the run's environment. Changing Envelope or Settings through it
// affects the rest of the run; use SetSetting for settings.
func (c *Call) Env() *Env { return c.r.env }

// Message is the message the run currently looks at.
func (c *Call) Message() *Message { return c.r.msg }

// SetMessage makes m the message the rest of the run looks at.
func (c *Call) SetMessage(m *Message) {
	c.r.msg = m
	c.r.env.Message = m
}

// Now is the run's clock reading (fixed for the run).
func (c *Call) Now() time.Time { return c.r.now }

// Settings are the run's effective settings (compile ones overlaid with
// Env.Settings). Do not modify the map; use SetSetting.
func (c *Call) Settings() Settings { return c.r.settings() }

// SetSetting changes a runtime setting for the rest of the run.
func (c *Call) SetSetting(name, value string) {
	if c.r.env.Settings == nil {
		c.r.env.Settings = Settings{}
	}
	c.r.env.Settings[name] = value
	c.r.merged = nil
}

// UnsetSetting removes a runtime setting for the rest of the run.
func (c *Call) UnsetSetting(name string) {
	delete(c.r.env.Settings, name)
	c.r.merged = nil
}

// SetVariable assigns a variable of the running script.
func (c *Call) SetVariable(name, value string) { c.r.setVar(name, value) }

// SetFlags replaces the imap4flags internal variable.
func (c *Call) SetFlags(flags []string) { c.r.flags = slices.Clone(flags) }

// Trace writes a line to Env.Trace, if set.
func (c *Call) Trace(format string, args ...any) { c.r.tracef(format, args...) }

// ExecBlock runs the command's block. A stop inside the block ends only
// the block (stopped reports it); any other error is returned.
func (c *Call) ExecBlock() (stopped bool, err error) {
	err = c.r.exec(c.n.block)
	stopped = c.r.stopped
	c.r.stopped = false
	if errors.Is(err, errStop) {
		return true, nil
	}
	return stopped, err
}

// Result is the run's result so far, with ImplicitKeep, ImplicitFlags and
// Message brought up to date.
func (c *Call) Result() *Result {
	r := c.r
	r.res.ImplicitKeep = r.keep
	r.res.ImplicitFlags = r.flags
	r.res.Message = r.msg
	return r.res
}

// ResultState is a saved result of a run (see SwapResult).
type ResultState struct {
	res  *Result
	keep bool
}

// SwapResult makes the run continue with an empty result (no actions,
// implicit keep in force) and returns the previous one for RestoreResult.
func (c *Call) SwapResult() ResultState {
	old := ResultState{c.r.res, c.r.keep}
	c.r.res, c.r.keep = &Result{}, true
	return old
}

// RestoreResult makes a result saved by SwapResult current again.
func (c *Call) RestoreResult(s ResultState) {
	c.r.res, c.r.keep = s.res, s.keep
}

// AppendResult adds the actions of next to prev as if the script s had
// run them after prev's, with Sieve's merging and conflict rules; prev's
// implicit keep and message follow next.
func AppendResult(ctx context.Context, s *Script, env *Env, prev, next *Result) error {
	sub := &run{ctx: ctx, env: env, res: prev, keep: prev.ImplicitKeep, root: s, script: s}
	for _, a := range next.Actions {
		if err := sub.addAction(a); err != nil {
			return err
		}
	}
	prev.ImplicitKeep = sub.keep && next.ImplicitKeep
	prev.Message = next.Message
	return nil
}

// Executed marks the actions of res carried out so far and returns those
// not marked before: an action executed once no longer conflicts with
// later ones, as in Pigeonhole.
func (res *Result) Executed() []Action {
	done := res.executed
	res.executed = len(res.Actions)
	return res.Actions[done:]
}

// ActionMessage is the message a delivering action (keep, fileinto,
// redirect) stores or sends: the snapshot it took (with editheader
// changes made before it), else def.
func ActionMessage(a Action, def *Message) *Message { return actionMessage(a, def) }

// SentMessage is a message an action sends (a redirect, a notification,
// a reply), as a harness captures it instead of sending.
type SentMessage struct {
	From    string // envelope sender, "" for <>
	To      string // envelope recipient
	Message []byte
}

// RevertMessage makes the message the run started with (before header
// edits and filters) its message again.
func (c *Call) RevertMessage() {
	if st, ok := c.r.ext["editheader"].(*editState); ok {
		delete(c.r.ext, "editheader")
		c.SetMessage(st.orig)
	}
}

// Sanitize shortens s to at most max bytes (ending in "..." when cut) and
// replaces control characters, as Dovecot's str_sanitize does for names
// quoted in error messages.
func Sanitize(s string, max int) string { return sanitize(s, max) }

// Names lists every capability the registry knows, enabled by default or
// not, sorted.
func (g *Registry) Names() []string {
	var out []string
	for name := range g.registry().exts {
		if name != "" {
			out = append(out, name)
		}
	}
	slices.Sort(out)
	return out
}
