package sieve

import (
	"errors"
	"strings"
	"unicode/utf8"
)

// include (RFC 6609): include [:personal|:global] [:once] [:optional]
// name, return, global and the global. variable namespace.
//
// Included scripts are resolved through Options.Resolver and compiled with
// the including script, as Pigeonhole compiles them into one binary: each
// (location, name) once per tree, within sieve_include_max_includes
// distinct scripts and sieve_include_max_nesting_depth levels, and
// circular includes are compile errors. Every script of the tree shares
// one includes map, so a compiled tree stays immutable.

// Pigeonhole's defaults (ext-include-limits.h).
const (
	defaultIncludeMaxDepth    = 10
	defaultIncludeMaxIncludes = 255
	maxScriptNameLen          = 256
)

// includeState is shared by the compilation of a script and of everything
// it includes.
type includeState struct {
	all map[includeKey]*Script // the tree's compiled scripts
	// seen holds every script started, also while it is being compiled.
	seen map[includeKey]bool
	// genErr is set once an include failed for a tree reason (circular,
	// depth, count): the parents then report a code generation failure.
	genErr bool
}

// includeData is the compile-time data of an include command.
type includeData struct {
	key      includeKey
	name     string
	once     bool
	optional bool
}

func includeExtension() *extension {
	return &extension{name: "include", specs: []*spec{
		{
			name: "include",
			tags: []tagSpec{
				{name: "personal"}, {name: "global"},
				{name: "once"}, {name: "optional"},
			},
			args: []argType{tString}, argNames: []string{"value"},
			check: checkInclude, exec: execInclude,
		},
		{name: "return", exec: func(r *run, n *node) error {
			r.returned = true
			return nil
		}},
		{name: "global", args: []argType{tStringList}, argNames: []string{"value"}, check: checkGlobal, exec: func(r *run, n *node) error { return nil }},
	}}
}

// includeName normalizes a script name for comparing includes: a ".sieve"
// suffix names the same script.
func includeName(name string) string { return strings.TrimSuffix(name, ".sieve") }

// validScriptName is Pigeonhole's sieve_script_name_is_valid.
func validScriptName(name string) bool {
	if name == "" || !utf8.ValidString(name) || utf8.RuneCountInString(name) > maxScriptNameLen {
		return false
	}
	for _, c := range name {
		switch {
		case c <= 0x1f, c == '/', c == 0x7f, c >= 0x80 && c <= 0x9f, c == 0xff, c == 0x2028, c == 0x2029:
			return false
		}
	}
	return true
}

func (c *checker) includeLimits() (depth, count int) {
	depth = int(c.opts.Settings.Int("sieve_include_max_nesting_depth", int64(c.opts.Limits.IncludeDepth)))
	count = int(c.opts.Settings.Int("sieve_include_max_includes", int64(c.opts.Limits.Includes)))
	if depth <= 0 {
		depth = defaultIncludeMaxDepth
	}
	if count <= 0 {
		count = defaultIncludeMaxIncludes
	}
	return depth, count
}

func checkInclude(c *checker, n *node) {
	if n.has("personal") && n.has("global") {
		c.errorf(n.pos, "include: cannot use location tags ':personal' and ':global' multiple times")
		return
	}
	arg := n.args[0].strs[0]
	if arg.parts != nil {
		c.errorf(arg.pos, "the include command requires a constant string for its value argument")
		return
	}
	name := arg.lit
	if !validScriptName(name) {
		c.errorf(arg.pos, "include: invalid script name '%s'", sanitize(name, 80))
		return
	}
	loc := Personal
	if n.has("global") {
		loc = Global
	}
	d := &includeData{key: includeKey{loc: loc, name: includeName(name)}, name: name, once: n.has("once"), optional: n.has("optional")}
	n.data = d

	st := c.opts.inc
	if st == nil {
		st = &includeState{all: c.script.includes, seen: map[includeKey]bool{}}
		// The top script is not on the include stack: like Pigeonhole
		// for a script outside the personal and global storages, its
		// identity is unknown here. A script including itself is still
		// caught, one level down.
		c.opts.inc = st
	}
	c.script.includes = st.all

	var src []byte
	var err error = ErrScriptNotFound
	if c.opts.Resolver != nil {
		src, err = c.opts.Resolver.Resolve(loc, name)
	}
	switch {
	case errors.Is(err, ErrScriptNotFound):
		if !d.optional {
			c.errorf(arg.pos, "included %s script '%s' does not exist", loc, sanitize(name, 80))
		}
		return
	case err != nil:
		c.errorf(arg.pos, "failed to access included %s script '%s' (refer to server log for more information)", loc, sanitize(name, 80))
		return
	}
	// What follows is Pigeonhole's code generation: it only happens for a
	// script without errors so far.
	if len(c.errs.list) > 0 {
		return
	}
	maxDepth, maxCount := c.includeLimits()
	if c.opts.includeDepth >= maxDepth {
		st.genErr = true
		c.errorf(n.pos, "cannot nest includes deeper than %d levels", maxDepth)
		return
	}
	if !d.once {
		for _, e := range c.opts.includeStack {
			if e == stackEntry(d.key) {
				st.genErr = true
				c.errorf(n.pos, "circular include")
				return
			}
		}
	}
	if st.seen[d.key] {
		return // compiled (or being compiled) elsewhere in the tree
	}
	if len(st.seen) >= maxCount {
		st.genErr = true
		c.errorf(n.pos, "failed to include script '%s': no more than %d includes allowed", sanitize(name, 80), maxCount)
		return
	}
	st.seen[d.key] = true
	o := *c.opts
	o.Location = loc
	o.includeDepth++
	o.includeStack = append(append([]string(nil), c.opts.includeStack...), stackEntry(d.key))
	o.inc = st
	sub, err := Compile(d.key.name, src, &o)
	if err != nil {
		var el ErrorList
		if errors.As(err, &el) {
			for _, e := range el {
				c.errs.add(e.Pos, "%s", e.Msg)
			}
		}
		if st.genErr {
			c.errorf(n.pos, "failed to generate code for included script '%s'", sanitize(name, 80))
		} else {
			c.errorf(n.pos, "failed to validate included script '%s'", sanitize(name, 80))
		}
		return
	}
	for _, w := range sub.Warnings() {
		c.warnf(w.Pos, "%s", w.Msg)
	}
	sub.includes = st.all
	st.all[d.key] = sub
}

func stackEntry(k includeKey) string { return k.loc.String() + ":" + k.name }

func execInclude(r *run, n *node) error {
	d := n.data.(*includeData)
	sub := r.script.includes[d.key]
	if sub == nil {
		// An :optional script that does not exist.
		return nil
	}
	if r.once[sub] && d.once {
		return nil
	}
	r.once[sub] = true
	for _, s := range r.includeChain() {
		if s == sub {
			return r.errorf(n.pos, "include: circular include of script '%s'", d.name)
		}
	}
	saveScript, saveVars, saveMatch := r.script, r.vars, r.matchVals
	r.pushInclude(saveScript)
	r.script, r.vars, r.matchVals = sub, map[string]string{}, nil
	r.includeDepth++
	err := r.exec(sub.cmds)
	r.includeDepth--
	r.returned = false
	r.script, r.vars, r.matchVals = saveScript, saveVars, saveMatch
	r.popInclude()
	return err
}

// includeChain lists the scripts running now, outermost first.
func (r *run) includeChain() []*Script {
	chain, _ := r.ext["include"].([]*Script)
	return append(chain, r.script)
}

func (r *run) pushInclude(s *Script) {
	chain, _ := r.ext["include"].([]*Script)
	r.ext["include"] = append(chain, s)
}

func (r *run) popInclude() {
	chain, _ := r.ext["include"].([]*Script)
	if len(chain) > 0 {
		r.ext["include"] = chain[:len(chain)-1]
	}
}

// checkGlobal declares global variables (RFC 6609 §3.4).
func checkGlobal(c *checker, n *node) {
	if !c.requires("variables") {
		c.errorf(n.pos, "global command requires that variables extension is active")
		return
	}
	local, _ := c.state["variables"].(map[string]bool)
	for _, s := range n.args[0].strs {
		if s.parts != nil || !validVarName(s.lit) {
			c.errorf(n.pos, "invalid variable identifier '%s'", sanitize(s.lit, 80))
			return
		}
		name := strings.ToLower(s.lit)
		if c.script.globals[name] {
			continue
		}
		if local[name] {
			c.errorf(n.pos, "declaration of new global variable '%s' conflicts with earlier local use", name)
			return
		}
		c.script.globals[name] = true
	}
}

// checkGlobalNamespace validates a variable name in the global. namespace
// for set and the like; it reports whether name is such a name (and so was
// handled).
func checkGlobalNamespace(c *checker, s *str) bool {
	if s.parts != nil || !c.requires("include") {
		return false
	}
	low := strings.ToLower(s.lit)
	if !strings.HasPrefix(low, "global.") {
		return false
	}
	rest := s.lit[len("global."):]
	switch {
	case strings.Contains(rest, "."):
		c.errorf(s.pos, "invalid variable name within global namespace: encountered sub-namespace")
	case rest != "" && isDigit(rest[0]) && strings.Trim(rest, "0123456789") == "":
		c.errorf(s.pos, "invalid variable name within global namespace: encountered numeric variable name")
	case !validVarName(rest):
		c.errorf(s.pos, "invalid variable name '%s'", sanitize(s.lit, 80))
	}
	return true
}
