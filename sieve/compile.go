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
	// Testsuite enables vnd.dovecot.testsuite (the conformance runner).
	Testsuite *TestsuiteHooks

	// includeDepth is set while compiling included scripts.
	includeDepth int
	// includeStack holds the names of scripts being included (loop check).
	includeStack []string
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
	globals   map[string]bool
	testsuite *TestsuiteHooks
}

// Name is the script's name as given to Compile.
func (s *Script) Name() string { return s.name }

// Requires reports whether the script requires capability cap.
func (s *Script) Requires(cap string) bool { return s.caps[cap] }

// Compile parses and validates src. name is used in error positions. On
// failure the error is an ErrorList with every error found; Compile never
// panics on any input.
func Compile(name string, src []byte, opts *Options) (*Script, error) {
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
		return nil, errs.list
	}
	ast := parse(name, string(src), errs)
	if len(errs.list) > 0 {
		return nil, errs.list
	}
	c := newChecker(name, &o, errs)
	s := c.script
	s.cmds = c.block(ast, true)
	if len(errs.list) > 0 {
		return nil, errs.list
	}
	return s, nil
}

// checker validates a parse tree and builds the nodes.
type checker struct {
	file    string
	opts    *Options
	errs    *errorSink
	enabled map[string]bool
	script  *Script
	depth   int
	// unknown remembers reported unknown names (reported once).
	unknown map[string]bool
	// requireDone is set once the first non-require command is seen.
	requireDone bool
	// extension state while checking (e.g. declared variables).
	state map[string]any
}

func newChecker(name string, o *Options, errs *errorSink) *checker {
	c := &checker{
		file:    name,
		opts:    o,
		errs:    errs,
		enabled: enabledSet(o.Extensions, o.Testsuite != nil),
		unknown: map[string]bool{},
		state:   map[string]any{},
	}
	c.script = &Script{
		name:      name,
		caps:      map[string]bool{},
		limits:    o.Limits,
		settings:  o.Settings,
		includes:  map[includeKey]*Script{},
		globals:   map[string]bool{},
		testsuite: o.Testsuite,
	}
	return c
}

// enabledSet applies a sieve_extensions style specification to the default
// extension set.
func enabledSet(spec string, testsuite bool) map[string]bool {
	on := map[string]bool{}
	fields := strings.Fields(spec)
	replace := false
	for _, f := range fields {
		if f[0] != '+' && f[0] != '-' {
			replace = true
		}
	}
	if !replace {
		for name, e := range stdRegistry().exts {
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
	if testsuite {
		on["vnd.dovecot.testsuite"] = true
	}
	// Comparators i;octet and i;ascii-casemap are always there.
	on["comparator-i;octet"] = true
	on["comparator-i;ascii-casemap"] = true
	return on
}

func (c *checker) errorf(p Position, format string, args ...any) {
	c.errs.add(p, format, args...)
}

func (c *checker) requires(capability string) bool { return c.script.caps[capability] }

// require adds a capability, reporting an error for unknown ones.
func (c *checker) require(p Position, name string) {
	e, ok := stdRegistry().exts[name]
	if !ok || !c.enabled[name] {
		if strings.HasPrefix(name, "comparator-") {
			c.errorf(p, "unknown Sieve capability '%s' (comparator not available)", name)
			return
		}
		c.errorf(p, "unknown Sieve capability '%s'", name)
		return
	}
	if c.script.caps[name] {
		return
	}
	c.script.caps[name] = true
	for _, imp := range e.implies {
		c.require(p, imp)
	}
	if e.onRequire != nil {
		e.onRequire(c, p)
	}
}

// block checks a list of commands; top is true for the script's top level.
func (c *checker) block(list []*astNode, top bool) []*node {
	var out []*node
	var prev *node // last if/elsif, for attaching elsif/else
	for _, a := range list {
		if a.name == "require" {
			if !top || c.requireDone {
				c.errorf(a.pos, "require commands can only be placed at top level at the beginning of the file")
				continue
			}
			c.checkRequire(a)
			continue
		}
		if top {
			c.requireDone = true
		}
		n := c.command(a)
		if n == nil {
			prev = nil
			continue
		}
		switch a.name {
		case "elsif", "else":
			if prev == nil {
				c.errorf(a.pos, "the %s command must follow an if or elseif command", a.name)
				continue
			}
			prev.alt = n
			if a.name == "elsif" {
				prev = n
			} else {
				prev = nil
			}
			continue
		case "if":
			prev = n
		default:
			prev = nil
		}
		out = append(out, n)
	}
	return out
}

func (c *checker) checkRequire(a *astNode) {
	if len(a.args) != 1 || len(a.tests) > 0 || a.hasBlock {
		c.errorf(a.pos, "the require command expects one argument: a string or string list of capabilities")
		return
	}
	arg := a.args[0]
	if arg.kind != argString && arg.kind != argStringList {
		c.errorf(arg.pos, "the require command expects a string list as argument 1 (capabilities), but %s was found", arg.describe())
		return
	}
	for _, s := range arg.strs {
		c.require(s.pos, s.s)
	}
}

// lookup finds the spec for a name, honouring required capabilities.
func (c *checker) lookup(name string, test bool) (*spec, string) {
	var found *spec
	for _, s := range stdRegistry().specs[name] {
		if s.ext != "" && !c.script.caps[s.ext] {
			continue
		}
		if s.test != test {
			if found == nil {
				found = s
			}
			continue
		}
		return s, ""
	}
	if found != nil {
		if test {
			return nil, fmt.Sprintf("%s '%s' cannot be used as a test", found.kindName(), name)
		}
		return nil, fmt.Sprintf("%s '%s' cannot be used as a command", found.kindName(), name)
	}
	return nil, ""
}

func (c *checker) command(a *astNode) *node {
	s, why := c.lookup(a.name, false)
	if s == nil {
		if why != "" {
			c.errorf(a.pos, "%s", why)
		} else {
			c.reportUnknown(a.pos, "command", a.name)
		}
		return nil
	}
	return c.node(a, s)
}

func (c *checker) test(a *astNode) *node {
	s, why := c.lookup(a.name, true)
	if s == nil {
		if why != "" {
			c.errorf(a.pos, "%s", why)
		} else {
			c.reportUnknown(a.pos, "test", a.name)
		}
		return nil
	}
	return c.node(a, s)
}

func (c *checker) reportUnknown(p Position, kind, name string) {
	key := kind + ":" + name
	if c.unknown[key] {
		return
	}
	c.unknown[key] = true
	c.errorf(p, "unknown %s '%s' (only reported once at first occurrence)", kind, name)
}

func (c *checker) node(a *astNode, s *spec) *node {
	c.depth++
	defer func() { c.depth-- }()
	n := &node{spec: s, pos: a.pos, relop: relNone}
	if c.depth > c.opts.Limits.Nesting {
		c.errorf(a.pos, "the %s %s is nested too deeply (max %d levels)", s.name, s.kindName(), c.opts.Limits.Nesting)
		return nil
	}
	ok := c.arguments(a, s, n)
	// Tests.
	switch s.tests {
	case noTests:
		if len(a.tests) > 0 {
			c.errorf(a.pos, "the %s %s accepts no tests", s.name, s.kindName())
			ok = false
		}
	case oneTest:
		if len(a.tests) != 1 || a.testList {
			c.errorf(a.pos, "the %s %s requires one test", s.name, s.kindName())
			ok = false
		}
	case testList:
		if !a.testList {
			c.errorf(a.pos, "the %s %s requires a list of tests", s.name, s.kindName())
			ok = false
		}
	}
	for _, t := range a.tests {
		if tn := c.test(t); tn != nil {
			n.tests = append(n.tests, tn)
		} else {
			ok = false
		}
	}
	// Block.
	switch {
	case s.block == needBlock && !a.hasBlock:
		c.errorf(a.pos, "the %s command requires a command block", s.name)
		ok = false
	case s.block == noBlock && a.hasBlock:
		c.errorf(a.pos, "the %s command does not accept a command block", s.name)
		ok = false
	case a.hasBlock && !constFalse(n.tests): // a block that never runs is not validated (ihave)
		n.block = c.block(a.block, false)
	}
	if !ok {
		return nil
	}
	if s.match || s.addrPart {
		if !c.matching(n) {
			return nil
		}
	}
	if s.check != nil {
		before := len(c.errs.list)
		s.check(c, n)
		if len(c.errs.list) > before {
			return nil
		}
	}
	return n
}

// findTag resolves a tag name for spec s.
func (c *checker) findTag(s *spec, name string) (tagSpec, bool) {
	for _, t := range s.tags {
		if t.name == name && (t.ext == "" || c.script.caps[t.ext]) {
			return t, true
		}
	}
	if s.match {
		for _, t := range matchTags {
			if t.name == name && (t.ext == "" || c.script.caps[t.ext]) {
				return t, true
			}
		}
	}
	if s.addrPart {
		for _, t := range addrPartTags {
			if t.name == name && (t.ext == "" || c.script.caps[t.ext]) {
				return t, true
			}
		}
	}
	return tagSpec{}, false
}

func (c *checker) arguments(a *astNode, s *spec, n *node) bool {
	ok := true
	i := 0
	groups := map[string]string{}
	for i < len(a.args) && a.args[i].kind == argTag {
		tg := a.args[i]
		i++
		ts, found := c.findTag(s, tg.tag)
		if !found {
			c.errorf(tg.pos, "unknown tagged argument ':%s' for the %s %s (reported only once at first occurrence)", tg.tag, s.name, s.kindName())
			ok = false
			continue
		}
		if _, dup := n.tag(ts.name); dup {
			c.errorf(tg.pos, "encountered duplicate tag ':%s' for the %s %s", ts.name, s.name, s.kindName())
			ok = false
		}
		if ts.group != "" {
			if other, dup := groups[ts.group]; dup && other != ts.name {
				c.errorf(tg.pos, "tag ':%s' cannot be specified together with ':%s' for the %s %s", ts.name, other, s.name, s.kindName())
				ok = false
			}
			groups[ts.group] = ts.name
		}
		tv := tagVal{name: ts.name, pos: tg.pos}
		if ts.arg != tNone {
			if i >= len(a.args) || a.args[i].kind == argTag {
				c.errorf(tg.pos, "the :%s tag for the %s %s requires a %s argument", ts.name, s.name, s.kindName(), ts.arg)
				ok = false
				n.tags = append(n.tags, tv)
				continue
			}
			v, vok := c.value(a.args[i], ts.arg)
			if !vok {
				c.errorf(a.args[i].pos, "the :%s tag for the %s %s requires a %s argument, but %s was found", ts.name, s.name, s.kindName(), ts.arg, a.args[i].describe())
				ok = false
			}
			tv.v = v
			i++
		}
		n.tags = append(n.tags, tv)
	}
	pos := a.args[i:]
	min := len(s.args) - s.optArg
	for j, ar := range pos {
		if ar.kind == argTag {
			c.errorf(ar.pos, "the %s %s does not accept tagged arguments after its positional arguments (found :%s)", s.name, s.kindName(), ar.tag)
			return false
		}
		if j >= len(s.args) {
			c.errorf(ar.pos, "the %s %s accepts only %d positional argument(s), but more were found", s.name, s.kindName(), len(s.args))
			return false
		}
		v, vok := c.value(ar, s.args[j])
		if !vok {
			c.errorf(ar.pos, "the %s %s expects %s as positional argument %d%s, but %s was found", s.name, s.kindName(), article(s.args[j]), j+1, argName(s, j), ar.describe())
			ok = false
			continue
		}
		n.args = append(n.args, v)
	}
	if len(pos) < min {
		p := a.pos
		need := s.args[len(pos)]
		c.errorf(p, "the %s %s expects %s as positional argument %d%s, but none was found", s.name, s.kindName(), article(need), len(pos)+1, argName(s, len(pos)))
		ok = false
	}
	return ok
}

func article(t argType) string {
	switch t {
	case tNumber:
		return "a number"
	case tString:
		return "a string"
	}
	return "a string list"
}

func argName(s *spec, j int) string {
	if j < len(s.argNames) && s.argNames[j] != "" {
		return " (" + s.argNames[j] + ")"
	}
	return ""
}

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
		v.strs = append(v.strs, c.str(s))
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
	}
	return out
}
