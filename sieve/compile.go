package sieve

import (
	"fmt"
	"strings"
)

// Options control compilation. The zero value is usable: the default
// extension set and Pigeonhole's default limits.
type Options struct {
	// Extensions changes the enabled extension set the way Pigeonhole's
	// sieve_extensions setting does: "+name" enables, "-name" disables, and a
	// list without signs replaces the default set.
	Extensions string
	// Settings holds Pigeonhole-named settings that affect compilation.
	Settings Settings
	// Resolver finds scripts named by include; nil means include fails.
	Resolver ScriptResolver
	// Location is the include location of this script (personal or global).
	Location Location
	// Limits bound compilation and every run of the compiled script.
	Limits Limits
	// MaxErrors stops reporting after this many errors (0: 100).
	MaxErrors int
	// Registry is the table of extensions scripts may require; nil means
	// the engine's own (Extensions selects among them either way).
	Registry *Registry

	// includeDepth is set while compiling included scripts.
	includeDepth int
	// includeStack holds the names of scripts being included (loop check).
	includeStack []string
	// inc is shared by a script and everything it includes (include.go).
	inc *includeState
}

// Limits bound what a script may do. Zero fields take the defaults.
type Limits struct {
	ScriptSize   int // bytes of source (default 1 MiB)
	Actions      int // actions per run (default 32, sieve_max_actions)
	Redirects    int // redirects per run (default 4, sieve_max_redirects)
	IncludeDepth int // nested include levels (default 10)
	Includes     int // distinct included scripts (default 255)
	Steps        int // commands and tests evaluated per run (default 100000)
	Nesting      int // block and test nesting (default 32)
}

func (l Limits) withDefaults() Limits {
	def := func(v *int, d int) {
		if *v <= 0 {
			*v = d
		}
	}
	def(&l.ScriptSize, 1<<20)
	def(&l.Actions, 32)
	def(&l.Redirects, 4)
	def(&l.IncludeDepth, 10)
	def(&l.Includes, 255)
	def(&l.Steps, 100000)
	def(&l.Nesting, 32)
	return l
}

// Script is a compiled Sieve script. It is immutable and safe for
// concurrent use by any number of runs.
type Script struct {
	name     string
	caps     map[string]bool
	cmds     []*node
	limits   Limits
	settings Settings
	// includes are the scripts this one includes, compiled with it.
	includes map[includeKey]*Script
	// globals lists variables declared global in this script.
	globals  map[string]bool
	warnings ErrorList
}

// Name is the script's name as given to Compile.
func (s *Script) Name() string { return s.name }

// Requires reports whether the script requires capability cap.
func (s *Script) Requires(cap string) bool { return s.caps[cap] }

// Compile parses and validates src. name is used in error positions. On
// failure the error is an ErrorList with every error found; Compile never
// panics on any input.
func Compile(name string, src []byte, opts *Options) (*Script, error) {
	s, _, err := compile(name, src, opts)
	return s, err
}

// compileStage tells how far a compilation got.
type compileStage int

const (
	stageParse    compileStage = iota // the script did not parse
	stageValidate                     // it parsed but did not validate
	stageDone                         // it compiled
)

// failure is the summary Pigeonhole logs after the errors of a failed
// compilation ("parse failed", "validation failed").
func (st compileStage) failure() string {
	if st == stageParse {
		return "parse failed"
	}
	return "validation failed"
}

func compile(name string, src []byte, opts *Options) (*Script, compileStage, error) {
	var o Options
	if opts != nil {
		o = *opts
	}
	o.Limits = o.Limits.withDefaults()
	max := o.MaxErrors
	if max <= 0 {
		max = 100
	}
	errs := &errorSink{max: max}
	if len(src) > o.Limits.ScriptSize {
		errs.add(Position{File: name, Line: 1, Col: 1}, "script is too large (max %d bytes)", o.Limits.ScriptSize)
		return nil, stageParse, errs.list
	}
	ast, ok := parse(name, string(src), errs, o.Limits.Nesting)
	if !ok || len(errs.list) > 0 {
		if len(errs.list) == 0 {
			errs.add(Position{File: name}, "parse failed")
		}
		return nil, stageParse, errs.list
	}
	c := newChecker(name, &o, errs)
	s := c.script
	s.cmds = c.block(ast, true)
	s.warnings = errs.warnings
	if len(errs.list) > 0 {
		return nil, stageValidate, errs.list
	}
	return s, stageDone, nil
}

// Warnings are the compile warnings of the script (e.g. invalid header
// names, which Pigeonhole accepts with a warning).
func (s *Script) Warnings() ErrorList { return s.warnings }

// checker validates a parse tree and builds the nodes.
type checker struct {
	file    string
	opts    *Options
	reg     *registry
	errs    *errorSink
	enabled map[string]bool
	script  *Script
	depth   int
	// unknown remembers reported unknown names (reported once).
	unknown map[string]bool
	// extension state while checking (e.g. declared variables).
	state map[string]any
	// requiresDone is set at the first top-level command that is not a
	// require.
	requiresDone bool
}

func newChecker(name string, o *Options, errs *errorSink) *checker {
	reg := o.Registry.registry()
	c := &checker{
		file:    name,
		opts:    o,
		reg:     reg,
		errs:    errs,
		enabled: enabledSet(reg, o),
		unknown: map[string]bool{},
		state:   map[string]any{},
	}
	c.script = &Script{
		name:     name,
		caps:     map[string]bool{},
		limits:   o.Limits,
		settings: o.Settings,
		includes: map[includeKey]*Script{},
		globals:  map[string]bool{},
	}
	return c
}

// enabledSet is the set of capabilities a script may require: the
// default set (every extension not marked defaultOff, which is
// Pigeonhole's default) changed by o.Extensions, or by the
// sieve_extensions setting when o.Extensions is empty, and for global
// scripts widened by sieve_global_extensions. Unknown names are ignored
// here, as Pigeonhole's LDA ignores them; commands reject them up front
// with CheckExtensions.
func enabledSet(reg *registry, o *Options) map[string]bool {
	spec := o.Extensions
	if strings.TrimSpace(spec) == "" {
		spec = o.Settings.String("sieve_extensions", "")
	}
	on := map[string]bool{}
	fields := strings.Fields(spec)
	replace := false
	for _, f := range fields {
		if f[0] != '+' && f[0] != '-' {
			replace = true
		}
	}
	if !replace {
		for name, e := range reg.exts {
			if !e.defaultOff {
				on[name] = true
			}
		}
	}
	for _, f := range fields {
		switch f[0] {
		case '+':
			on[f[1:]] = true
		case '-':
			delete(on, f[1:])
		default:
			on[f] = true
		}
	}
	if o.Location == Global {
		for _, f := range strings.Fields(o.Settings.String("sieve_global_extensions", "")) {
			on[strings.TrimLeft(f, "+")] = true
		}
	}
	// The core comparators are always there.
	on["comparator-i;octet"] = true
	on["comparator-i;ascii-casemap"] = true
	on["comparator-i;unicode-casemap"] = true
	return on
}

// CheckExtensions reports the first name in spec (a sieve_extensions
// value: "+name", "-name" or "name", space-separated) that the registry
// (nil: the engine's own) does not know, in an error that names it.
func CheckExtensions(reg *Registry, spec string) error {
	known := reg.registry().exts
	for _, f := range strings.Fields(spec) {
		name := strings.TrimLeft(f, "+-")
		if _, ok := known[name]; !ok || name == "" {
			return fmt.Errorf("unknown Sieve extension %q (in %q)", name, spec)
		}
	}
	return nil
}

func (c *checker) errorf(p Position, format string, args ...any) {
	c.errs.add(p, format, args...)
}

func (c *checker) requires(capability string) bool { return c.script.caps[capability] }

// require loads a capability named by the require command, reporting an
// error for unknown ones as Pigeonhole does.
func (c *checker) require(p Position, name string) bool {
	e, ok := c.reg.exts[name]
	if !ok || !c.enabled[name] || name == "" {
		lname := strings.ToLower(name)
		if coreCommands[lname] || coreTests[lname] {
			kind := "command"
			if coreTests[lname] {
				kind = "test"
			}
			c.errorf(p, "require command: '%s' is not known as a Sieve capability, but it is known as a Sieve %s that is always available", sanitize(name, 128), kind)
			return false
		}
		c.errorf(p, "require command: unknown Sieve capability `%s'", sanitize(name, 128))
		return false
	}
	c.load(p, e)
	return true
}

// load enables a known capability and those it implies.
func (c *checker) load(p Position, e *extension) {
	if c.script.caps[e.name] {
		return
	}
	c.script.caps[e.name] = true
	if e.validate != nil {
		c.state["require-pos:"+e.name] = p
	}
	for _, imp := range e.implies {
		if ie, ok := c.reg.exts[imp]; ok {
			c.load(p, ie)
		}
	}
	if e.onRequire != nil {
		e.onRequire(c, p)
	}
}

// The commands and tests of the base language, which are always available
// and cannot be required.
var (
	coreCommands = map[string]bool{"if": true, "elsif": true, "else": true, "require": true, "stop": true,
		"keep": true, "discard": true, "redirect": true}
	coreTests = map[string]bool{"address": true, "allof": true, "anyof": true, "exists": true, "false": true,
		"header": true, "not": true, "size": true, "true": true}
)

// value converts a parsed argument to a checked value of type t.
func (c *checker) value(a arg, t argType) (*value, bool) {
	switch t {
	case tNumber:
		if a.kind != argNumber {
			return nil, false
		}
		return &value{pos: a.pos, typ: tNumber, num: a.num}, true
	case tString:
		if a.kind != argString {
			return nil, false
		}
	case tStringList:
		if a.kind != argString && a.kind != argStringList {
			return nil, false
		}
	}
	v := &value{pos: a.pos, typ: t, list: a.kind == argStringList}
	for _, s := range a.strs {
		before := len(c.errs.list)
		v.strs = append(v.strs, c.str(s))
		if len(c.errs.list) > before {
			break // one error per argument, as in Pigeonhole
		}
	}
	return v, true
}

// str processes a string literal: encoded characters are decoded and
// variable references parsed when the script requires those extensions.
func (c *checker) str(s strLit) *str {
	lit := s.s
	if c.script.caps["encoded-character"] {
		lit = c.decodeEncodedCharacters(s.pos, lit)
	}
	out := &str{pos: s.pos, lit: lit}
	if c.script.caps["variables"] {
		out.parts = parseVarRefs(lit)
		c.checkVarRefs(out)
	}
	return out
}
