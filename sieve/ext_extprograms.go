package sieve

import (
	"context"
	"errors"
	"fmt"
	"unicode/utf8"
)

// vnd.dovecot.pipe, vnd.dovecot.filter and vnd.dovecot.execute (Pigeonhole's
// extprograms plugin): the script names a program and its arguments; the
// engine never runs anything itself but asks Env.Programs. pipe is an
// action ([Pipe]) the caller carries out with the others; filter and
// execute run while the script runs: filter replaces the message with the
// program's output for everything that follows, execute feeds it a string
// or the message and may store its output in a variable. All three are off
// by default.

// ProgramRunner runs the programs scripts name.
type ProgramRunner interface {
	// RunProgram runs the program of the call and returns its output
	// when the call asks for it. A program that cannot be found returns
	// an error wrapping ErrProgramNotFound; one that exits with a
	// failure status one wrapping ErrProgramFailed.
	RunProgram(ctx context.Context, call *ProgramCall) ([]byte, error)
}

// ProgramCall is one run of a program.
type ProgramCall struct {
	Kind   string // "pipe", "filter" or "execute"
	Name   string // the program's name, checked by the engine (no '/')
	Args   []string
	Input  []byte // nil: the program reads nothing
	Output bool   // whether its output is wanted
	// Envelope and User describe the message and its recipient; the
	// program sees them in its environment.
	Envelope Envelope
	User     string
	// Host is the environment item "host", "" when unknown.
	Host     string
	Settings Settings
}

// Errors a ProgramRunner wraps.
var (
	ErrProgramNotFound = errors.New("program not found")
	ErrProgramFailed   = errors.New("program failed")
)

// Pipe asks for the message to be piped to a program when the result is
// executed.
type Pipe struct {
	At      Position
	Program string
	Args    []string
	Try     bool // :try: a failure does not fail the delivery
	Copy    bool // :copy: the implicit keep stays
	Message *Message
}

func (a *Pipe) Kind() string  { return "pipe" }
func (a *Pipe) Pos() Position { return a.At }

// maxProgramName and maxProgramArg are Pigeonhole's limits.
const (
	maxProgramName = 128
	maxProgramArg  = 1024
)

func extprogramSpec(name string, test bool, tags []tagSpec) *spec {
	return &spec{
		name: name, test: test, tags: tags,
		args: []argType{tString, tStringList}, optArg: 1, argNames: []string{"program-name", "arguments"},
		check: checkProgram,
	}
}

func pipeExtension() *extension {
	s := extprogramSpec("pipe", false, []tagSpec{{name: "copy", ext: "copy"}, {name: "try"}})
	s.exec = execPipe
	return &extension{name: "vnd.dovecot.pipe", specs: []*spec{s}}
}

func filterExtension() *extension {
	cmd := extprogramSpec("filter", false, nil)
	cmd.exec = func(r *run, n *node) error { _, err := runFilter(r, n, false); return err }
	tst := extprogramSpec("filter", true, nil)
	tst.eval = func(r *run, n *node) (bool, error) { return runFilter(r, n, true) }
	return &extension{name: "vnd.dovecot.filter", specs: []*spec{cmd, tst}}
}

func executeExtension() *extension {
	tags := func() []tagSpec {
		return []tagSpec{
			{name: "input", arg: tString, group: "input"}, {name: "pipe", group: "input"},
			{name: "output", arg: tString},
		}
	}
	cmd := extprogramSpec("execute", false, tags())
	cmd.exec = func(r *run, n *node) error { _, err := runExecute(r, n, false); return err }
	tst := extprogramSpec("execute", true, tags())
	tst.eval = func(r *run, n *node) (bool, error) { return runExecute(r, n, true) }
	return &extension{name: "vnd.dovecot.execute", specs: []*spec{cmd, tst}}
}

// validProgramName applies Pigeonhole's rules: 1 to 128 UTF-8 characters,
// no '/', no control characters, U+00FF, U+2028 or U+2029.
func validProgramName(s string) bool {
	if s == "" || !utf8.ValidString(s) || utf8.RuneCountInString(s) > maxProgramName {
		return false
	}
	for _, c := range s {
		if c <= 0x1f || c == '/' || c == 0x7f || c >= 0x80 && c <= 0x9f || c == 0xff || c == 0x2028 || c == 0x2029 {
			return false
		}
	}
	return true
}

func validProgramArg(s string) bool {
	if len(s) > maxProgramArg {
		return false
	}
	for i := 0; i < len(s); i++ {
		if s[i] == '\r' || s[i] == '\n' {
			return false
		}
	}
	return true
}

func checkProgram(c *checker, n *node) {
	kind := n.spec.kindName()
	name := n.args[0].strs[0]
	if name.parts != nil {
		c.errorf(name.pos, "the %s %s requires a constant string for its program-name argument", n.spec.name, kind)
		return
	}
	if !validProgramName(name.lit) {
		c.errorf(name.pos, "%s %s: invalid program name '%s'", n.spec.name, kind, sanitize(name.lit, 80))
		return
	}
	if len(n.args) > 1 {
		for _, a := range n.args[1].strs {
			if a.parts == nil && !validProgramArg(a.lit) {
				c.errorf(a.pos, "%s %s: specified external program argument '%s' is invalid", n.spec.name, kind, sanitize(a.lit, 128))
				return
			}
		}
	}
	if v := n.tagValue("output"); v != nil {
		if !c.requires("variables") {
			c.errorf(v.pos, "the %s %s only allows for the specification of an :output argument when the variables extension is active", n.spec.name, kind)
			return
		}
		c.checkVarName(v.strs[0], true)
	}
}

// NewProgramCall is the call of a program for a message delivered with
// env: the user is the environment's vnd.dovecot.username or the
// recipient, the host its "host" item.
func NewProgramCall(kind, name string, args []string, env *Env, settings Settings) *ProgramCall {
	call := &ProgramCall{Kind: kind, Name: name, Args: args, Envelope: env.Envelope, Settings: settings,
		User: env.Envelope.To, Host: env.Environment["host"]}
	if v, ok := env.Environment["vnd.dovecot.username"]; ok {
		call.User = v
	}
	return call
}

// programCall builds the call of the command n.
func (r *run) programCall(n *node, kind string) (*ProgramCall, error) {
	call := NewProgramCall(kind, r.string(n.args[0]), nil, r.env, r.settings())
	call.Host, _ = r.environmentItem("host")
	if len(n.args) > 1 {
		for _, a := range r.strings(n.args[1]) {
			if !validProgramArg(a) {
				return nil, r.errorf(n.pos, "%s action: specified external program argument '%s' is invalid", kind, sanitize(a, 128))
			}
			call.Args = append(call.Args, a)
		}
	}
	return call, nil
}

// vndUser is the user name programs and vnd.dovecot.environment see.
func (r *run) vndUser() (string, bool) {
	u := NewProgramCall("", "", nil, r.env, nil).User
	return u, u != ""
}

func execPipe(r *run, n *node) error {
	call, err := r.programCall(n, "pipe")
	if err != nil {
		return err
	}
	for _, o := range r.res.Actions[r.res.executed:] {
		if p, ok := o.(*Pipe); ok && p.Program == call.Name {
			return r.errorf(n.pos, "duplicate pipe \"%s\" action not allowed (previously triggered one was here: %s)", call.Name, p.At)
		}
	}
	if !n.has("copy") {
		r.keep = false
	}
	return r.addAction(&Pipe{At: n.pos, Program: call.Name, Args: call.Args, Try: n.has("try"), Copy: n.has("copy")})
}

// runProgram runs call through Env.Programs. ok is false when the program
// failed; err is set when that fails the script (for a command, not a
// test), else the failure is logged.
func (r *run) runProgram(n *node, call *ProgramCall, test bool) (out []byte, ok bool, err error) {
	if r.env.Programs == nil {
		err = fmt.Errorf("%w: no programs are configured", ErrProgramNotFound)
	} else {
		out, err = r.env.Programs.RunProgram(r.ctx, call)
	}
	switch {
	case err == nil:
		return out, true, nil
	case errors.Is(err, ErrProgramFailed):
		return nil, false, nil
	case errors.Is(err, ErrProgramNotFound):
		err = r.errorf(n.pos, "%s action: program '%s' not found", call.Kind, sanitize(call.Name, 80))
	default:
		err = r.errorf(n.pos, "%s action: failed to execute to program '%s': %v", call.Kind, sanitize(call.Name, 80), err)
	}
	if test {
		r.softErrorf(n.pos, "%s", err.(*Error).Msg)
		return nil, false, nil
	}
	return nil, false, err
}

func runFilter(r *run, n *node, test bool) (bool, error) {
	call, err := r.programCall(n, "filter")
	if err != nil {
		return false, err
	}
	call.Input, call.Output = r.msg.Raw(), true
	out, ok, err := r.runProgram(n, call, test)
	if !ok {
		return false, err
	}
	r.replaceMessage(ParseMessage(out))
	return true, nil
}

func runExecute(r *run, n *node, test bool) (bool, error) {
	call, err := r.programCall(n, "execute")
	if err != nil {
		return false, err
	}
	switch {
	case n.has("pipe"):
		call.Input = r.msg.Raw()
	case n.tagValue("input") != nil:
		call.Input = []byte(r.string(n.tagValue("input")))
	}
	out := n.tagValue("output")
	call.Output = out != nil
	data, ok, err := r.runProgram(n, call, test)
	if !ok {
		return false, err
	}
	if out != nil {
		r.setVar(r.string(out), string(data))
	}
	return true, nil
}

// replaceMessage makes m the message of the rest of the run (filter);
// the message as received stays for the keep of a failed run.
func (r *run) replaceMessage(m *Message) {
	if _, ok := r.ext["editheader"]; !ok {
		r.ext["editheader"] = &editState{orig: r.msg}
	}
	r.msg = m
}
