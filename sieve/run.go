package sieve

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strings"
	"time"
)

// Envelope is the SMTP/LMTP envelope of the message being filtered.
type Envelope struct {
	From   string // MAIL FROM; "" for the null sender <>
	To     string // the final recipient (RCPT TO)
	OrigTo string // the original recipient (ORCPT), if known
	Auth   string // the authenticated user, if any
}

// MailboxChecker answers mailboxexists (RFC 5490).
type MailboxChecker interface {
	MailboxExists(name string) bool
}

// DuplicateChecker answers the duplicate test (RFC 7352). Seen reports
// whether id was already recorded within its period; recording happens
// when the result is executed, from Result.Duplicates.
type DuplicateChecker interface {
	Seen(ctx context.Context, id string) (bool, error)
}

// Env is everything a run sees besides the script.
type Env struct {
	Message  *Message
	Envelope Envelope
	// Now is the clock (date, currentdate, vacation); nil means time.Now.
	Now func() time.Time
	// Settings are Pigeonhole-named runtime settings.
	Settings Settings
	// Environment holds the environment extension's items (RFC 5183),
	// e.g. "remote-ip", "remote-host", "domain", "host".
	Environment map[string]string
	// Mailboxes answers mailboxexists (and special-use when it is also
	// a SpecialUseChecker); nil: no mailbox exists.
	Mailboxes MailboxChecker
	// Metadata answers the metadata tests; nil: no entry is set.
	Metadata MetadataSource
	// Lists answers extlists; nil: no list is known.
	Lists ListSource
	// Variables, when set, reads variables of namespaces extensions
	// declare ("tst.path" for ${tst.path}); ok false: not known.
	Variables func(name string) (value string, ok bool)
	// Programs runs the programs of vnd.dovecot.pipe, filter and
	// execute; nil: no program is found.
	Programs   ProgramRunner
	Duplicates DuplicateChecker
	// Trace, when set, receives a line per test and action as they run.
	Trace io.Writer
}

// DuplicateMark is an id the duplicate test asks to record once the
// result is executed.
type DuplicateMark struct {
	ID     string
	Period time.Duration
}

// Result is what a run produced.
type Result struct {
	// Actions in execution order, merged as Sieve requires (duplicate
	// keeps and redirects to one address appear once).
	Actions []Action
	// ImplicitKeep is true when no action cancelled the implicit keep, or
	// the run failed (failure always keeps the message).
	ImplicitKeep bool
	// ImplicitFlags are the imap4flags flags for the implicit keep.
	ImplicitFlags []string
	// Message is the message as the implicit keep stores it: with the
	// editheader changes, or as received when the run failed. Explicit
	// keep/fileinto/redirect actions carry their own Message.
	Message *Message
	// Duplicates are the ids the duplicate test wants recorded.
	Duplicates []DuplicateMark
	// Warnings are non-fatal runtime problems.
	Warnings []string
	// Errors are runtime errors that did not stop the run (Pigeonhole logs
	// them as errors and carries on, e.g. an invalid regular expression
	// built from variables).
	Errors []string
	// Err is the runtime error that ended the run, if any; it is also
	// returned by Run.
	Err *Error

	// executed counts the leading Actions already carried out (by the
	// testsuite or between the scripts of RunMulti). Like Pigeonhole's
	// executed actions, they no longer conflict with new ones.
	executed int
}

// run is the state of one evaluation.
type run struct {
	ctx    context.Context
	env    *Env
	script *Script // the script whose nodes run now
	root   *Script
	msg    *Message
	res    *Result
	now    time.Time

	steps int
	// work estimates regular expression matching done so far, and
	// workLimit is the estimate sieve_max_cpu_time allows (0: not yet
	// computed, <0: unlimited).
	work, workLimit int64
	stopped         bool // stop command
	returned        bool // return from an include
	keep            bool // implicit keep still in force

	// merged caches settings(); whoever changes Env.Settings during a
	// run (the testsuite) resets it.
	merged Settings

	vars      map[string]string // variables of the current script
	globals   map[string]string
	matchVals []string // match variables
	strBlock  []string // where strings cuts its results from
	flags     []string // imap4flags internal variable
	// ext holds per-run extension state.
	ext map[string]any
	// includeDepth is the current include nesting.
	includeDepth int
	// executed holds included scripts already run with :once.
	once map[*Script]bool
}

// errStop unwinds execution for the stop command.
var errStop = errors.New("stop")

// Run evaluates the script against env. On a runtime error it returns the
// error (an *Error with the position) and a Result whose ImplicitKeep is
// true: a failed script always keeps the message, as in Pigeonhole.
func (s *Script) Run(ctx context.Context, env *Env) (*Result, error) {
	r := s.newRun(ctx, env)
	err := r.exec(s.cmds)
	return r.finish(err)
}

func (s *Script) newRun(ctx context.Context, env *Env) *run {
	if env == nil {
		env = &Env{}
	}
	msg := env.Message
	if msg == nil {
		msg = ParseMessage(nil)
	}
	now := time.Now
	if env.Now != nil {
		now = env.Now
	}
	return &run{
		ctx:     ctx,
		env:     env,
		script:  s,
		root:    s,
		msg:     msg,
		res:     &Result{},
		now:     now(),
		keep:    true,
		vars:    map[string]string{},
		globals: map[string]string{},
		ext:     map[string]any{},
		once:    map[*Script]bool{},
	}
}

func (r *run) finish(err error) (*Result, error) {
	if errors.Is(err, errStop) {
		err = nil
	}
	r.res.Message = r.msg
	r.res.ImplicitKeep = r.keep
	r.res.ImplicitFlags = r.flags
	if err != nil {
		r.res.ImplicitKeep = true
		r.res.Message = r.originalMessage()
		var se *Error
		if !errors.As(err, &se) {
			se = &Error{Pos: Position{File: r.script.name}, Msg: err.Error()}
		}
		r.res.Err = se
		return r.res, se
	}
	return r.res, nil
}

// setting reads a runtime setting, falling back to the compile settings.
func (r *run) setting(name string) (string, bool) {
	if v, ok := r.env.Settings[name]; ok {
		return v, true
	}
	v, ok := r.root.settings[name]
	return v, ok
}

func (r *run) settings() Settings {
	if r.merged != nil {
		return r.merged
	}
	switch {
	case len(r.root.settings) == 0:
		r.merged = r.env.Settings
	case len(r.env.Settings) == 0:
		r.merged = r.root.settings
	default:
		m := r.root.settings.Clone()
		for k, v := range r.env.Settings {
			m[k] = v
		}
		r.merged = m
	}
	if r.merged == nil {
		r.merged = Settings{}
	}
	return r.merged
}

func (r *run) errorf(p Position, format string, args ...any) error {
	return &Error{Pos: p, Msg: sprintf(format, args...)}
}

// softErrorf logs a runtime error that does not end the run.
func (r *run) softErrorf(p Position, format string, args ...any) {
	r.res.Errors = append(r.res.Errors, p.String()+": "+sprintf(format, args...))
}

func (r *run) warnf(p Position, format string, args ...any) {
	r.res.Warnings = append(r.res.Warnings, p.String()+": "+sprintf(format, args...))
}

func (r *run) tracef(format string, args ...any) {
	if r.env != nil && r.env.Trace != nil {
		fmt.Fprintf(r.env.Trace, format+"\n", args...)
	}
}

// step counts one unit of work against the step budget and honours
// cancellation.
func (r *run) step() error {
	r.steps++
	if r.steps > r.root.limits.Steps {
		return &Error{Pos: Position{File: r.script.name}, Msg: fmt.Sprintf("execution exceeded CPU time limit (more than %d steps)", r.root.limits.Steps)}
	}
	if r.steps&1023 == 0 {
		if err := r.ctx.Err(); err != nil {
			return fmt.Errorf("sieve run cancelled: %w", err)
		}
	}
	return nil
}

// exec runs a command block.
func (r *run) exec(cmds []*node) error {
	for _, n := range cmds {
		if r.stopped || r.returned {
			return nil
		}
		if err := r.step(); err != nil {
			return err
		}
		if err := n.spec.exec(r, n); err != nil {
			return err
		}
	}
	return nil
}

// eval evaluates a test.
func (r *run) eval(n *node) (bool, error) {
	if err := r.step(); err != nil {
		return false, err
	}
	ok, err := n.spec.eval(r, n)
	if r.env.Trace != nil && err == nil {
		r.tracef("%s: %s test: %v", n.pos, n.spec.name, ok)
	}
	return ok, err
}

// strings expands every string of v.
func (r *run) strings(v *value) []string {
	if v == nil {
		return nil
	}
	// Cut from a block of the run's (one allocation for many calls): a
	// caller may keep the slice (an action does) or write into it, and
	// the capacity is cut to the length, so an append copies instead of
	// running into the next caller's strings. Runs are never reused.
	n := len(v.strs)
	if cap(r.strBlock)-len(r.strBlock) < n {
		r.strBlock = make([]string, 0, max(8, 2*cap(r.strBlock), n))
	}
	l := len(r.strBlock)
	r.strBlock = r.strBlock[:l+n]
	out := r.strBlock[l : l+n : l+n]
	for i, s := range v.strs {
		out[i] = r.expand(s)
	}
	return out
}

// string expands the single string of v.
func (r *run) string(v *value) string {
	if v == nil || len(v.strs) == 0 {
		return ""
	}
	return r.expand(v.strs[0])
}

// addAction appends an action, applying Sieve's merging and conflict rules.
func (r *run) addAction(a Action) error {
	r.snapshotMessage(a)
	acts := r.res.Actions
	switch a := a.(type) {
	case *Keep:
		for i, o := range acts {
			if k, ok := o.(*Keep); ok {
				k.Flags = lastFlags(k.Flags, a.Flags)
				r.keep = false
				return nil
			}
			if f, ok := o.(*FileInto); ok && isInbox(f.Mailbox) {
				// The keep takes over the store into INBOX, in place.
				k := *a
				k.Flags = lastFlags(f.Flags, a.Flags)
				acts[i] = &k
				r.keep = false
				return nil
			}
		}
		if err := r.checkReject(a); err != nil {
			return err
		}
		r.keep = false
	case *FileInto:
		if !a.Copy {
			r.keep = false
		}
		for _, o := range acts {
			if f, ok := o.(*FileInto); ok && sameMailbox(f.Mailbox, a.Mailbox) {
				f.Flags = lastFlags(f.Flags, a.Flags)
				f.Copy = f.Copy && a.Copy
				f.Create = f.Create || a.Create
				return nil
			}
			if k, ok := o.(*Keep); ok && isInbox(a.Mailbox) {
				k.Flags = lastFlags(k.Flags, a.Flags)
				return nil
			}
		}
		if err := r.checkReject(a); err != nil {
			return err
		}
	case *Redirect:
		if !a.Copy {
			r.keep = false
		}
		n := 0
		for _, o := range acts {
			if rd, ok := o.(*Redirect); ok {
				if strings.EqualFold(rd.Address, a.Address) {
					rd.Copy = rd.Copy && a.Copy
					return nil
				}
				n++
			}
		}
		if n >= r.root.limits.Redirects {
			return r.errorf(a.At, "number of redirect actions exceeds policy limit (max %d)", r.root.limits.Redirects)
		}
		if err := r.checkReject(a); err != nil {
			return err
		}
	case *Discard:
		r.keep = false
		for _, o := range acts {
			if _, ok := o.(*Discard); ok {
				return nil
			}
		}
	case *Reject:
		for i, o := range acts {
			if i < r.res.executed {
				if _, ok := o.(*Reject); ok {
					r.keep = false
					return nil // already rejected: the new one is dropped
				}
				continue
			}
			switch o.(type) {
			case *Reject:
				return r.errorf(a.At, "duplicate reject/ereject action not allowed (previously triggered one was here: %s)", o.Pos())
			case *Vacation:
				return r.errorf(a.At, "reject/ereject action conflicts with earlier vacation action (%s)", o.Pos())
			case *Keep, *FileInto, *Redirect:
				if !r.rejectMayDeliver() {
					return r.errorf(a.At, "reject/ereject action conflicts with earlier %s action (%s)", o.Kind(), o.Pos())
				}
			}
		}
		r.keep = false
	case *Vacation:
		for _, o := range acts {
			switch o.(type) {
			case *Vacation:
				return r.errorf(a.At, "duplicate vacation action not allowed (previously triggered one was here: %s)", o.Pos())
			case *Reject:
				return r.errorf(a.At, "vacation action conflicts with earlier reject/ereject action (%s)", o.Pos())
			}
		}
	}
	if len(acts) >= r.root.limits.Actions {
		return r.errorf(a.Pos(), "total number of actions exceeds policy limit (max %d)", r.root.limits.Actions)
	}
	r.res.Actions = append(r.res.Actions, a)
	r.tracef("%s: action %s", a.Pos(), a.Kind())
	return nil
}

// rejectMayDeliver reports whether reject may be combined with delivering
// actions (Pigeonhole's sieve_reject_... is strict by default).
func (r *run) rejectMayDeliver() bool { return false }

func (r *run) checkReject(a Action) error {
	if r.rejectMayDeliver() {
		return nil
	}
	for _, o := range r.res.Actions[r.res.executed:] {
		if _, ok := o.(*Reject); ok {
			return r.errorf(a.Pos(), "%s action conflicts with earlier reject/ereject action (%s)", a.Kind(), o.Pos())
		}
	}
	return nil
}

func isInbox(name string) bool { return strings.EqualFold(name, "INBOX") }

func sameMailbox(a, b string) bool {
	if isInbox(a) && isInbox(b) {
		return true
	}
	return a == b
}

func mergeFlags(a, b []string) []string {
	if len(b) == 0 {
		return a
	}
	out := append([]string(nil), a...)
outer:
	for _, f := range b {
		for _, g := range out {
			if strings.EqualFold(f, g) {
				continue outer
			}
		}
		out = append(out, f)
	}
	return out
}
