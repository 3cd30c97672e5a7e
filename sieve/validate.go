package sieve

import (
	"sort"
	"strings"
)

// Validation of the parse tree, in the order and with the messages of
// Pigeonhole's validator: each command is first looked up, then its tagged
// arguments, the count of positional arguments, its tests and block are
// checked (stopping at the first error of the command), then the command's
// own validation runs, and finally its tests and block are descended into.

// requireSpec is the require command; its validation loads capabilities.
var requireSpec = &spec{name: "require", args: []argType{tStringList}, argNames: []string{"capabilities"}}

func (c *checker) warnf(p Position, format string, args ...any) {
	c.errs.warn(p, format, args...)
}

// block validates a list of commands; top is true for the script's top
// level.
func (c *checker) block(list []*astNode, top bool) []*node {
	var out []*node
	var chain *node    // the if/elsif a following elsif/else attaches to
	prevName := ""     // the previous command, when it was recognized
	chainTrue := false // a branch of the current if chain is always taken
	for _, a := range list {
		if len(c.errs.list) > 0 && !c.errs.more() {
			break
		}
		name := strings.ToLower(a.name)
		if top && name != "require" && !c.requiresDone {
			c.requiresDone = true
			c.validateRequired()
		}
		s := c.context(a, false)
		if s == nil {
			prevName, chain = "", nil
			continue
		}
		if s == requireSpec {
			c.validateRequire(a, top && (prevName == "" || prevName == "require"))
			prevName, chain = name, nil
			continue
		}
		follows := name == "elsif" || name == "else"
		misplaced := follows && prevName != "if" && prevName != "elsif"
		if !follows {
			chainTrue = false
		}
		n, ok := c.validate(a, s, false, follows && chainTrue && !misplaced, misplaced)
		prevName = name
		if ok {
			if k, isConst := n.data.(ifConst); isConst && k == 1 {
				chainTrue = true
			}
		}
		switch {
		case !ok:
			if !follows {
				chain = nil
			}
		case name == "if":
			chain = n
			out = append(out, n)
		case follows:
			if chain != nil {
				chain.alt = n
			}
			if name == "elsif" {
				chain = n
			} else {
				chain = nil
			}
		default:
			chain = nil
			out = append(out, n)
		}
	}
	return out
}

// validateRequired runs the validate hooks of the required extensions,
// in name order.
func (c *checker) validateRequired() {
	var names []string
	for name := range c.script.caps {
		names = append(names, name)
	}
	sort.Strings(names)
	for _, name := range names {
		e := c.reg.exts[name]
		if e != nil && e.validate != nil {
			p, _ := c.state["require-pos:"+name].(Position)
			e.validate(c, p)
		}
	}
}

// ifConst records on an if/elsif node that its test is constant (1 true,
// 0 false); used to skip validating dead branches as Pigeonhole does.
type ifConst int

// context looks a command or test up, reporting unknown ones (once) and
// commands used as tests and vice versa.
func (c *checker) context(a *astNode, test bool) *spec {
	name := strings.ToLower(a.name)
	if name == "require" {
		if test {
			c.errorf(a.pos, "attempted to use command 'require' as test")
			return nil
		}
		return requireSpec
	}
	if c.unknown["cmd:"+name] {
		return nil
	}
	var other *spec
	for _, s := range c.reg.specs[name] {
		if s.ext != "" && !c.script.caps[s.ext] {
			continue
		}
		if s.test == test {
			return s
		}
		if other == nil {
			other = s
		}
	}
	kind := "command"
	if test {
		kind = "test"
	}
	if other != nil {
		c.errorf(a.pos, "attempted to use %s '%s' as %s", other.kindName(), a.name, kind)
		return nil
	}
	c.unknown["cmd:"+name] = true
	c.errorf(a.pos, "unknown %s '%s' (only reported once at first occurrence)", kind, a.name)
	return nil
}

// validateRequire checks a require command and loads its capabilities.
func (c *checker) validateRequire(a *astNode, placed bool) {
	n := &node{spec: requireSpec, pos: a.pos}
	if _, ok := c.arguments(a, requireSpec, n); !ok {
		c.subtests(a, requireSpec)
		return
	}
	if !c.subtests(a, requireSpec) || !c.blockOK(a, requireSpec) {
		return
	}
	if !placed {
		c.errorf(a.pos, "require commands can only be placed at top level at the beginning of the file")
		return
	}
	arg := a.args[len(a.args)-1]
	if arg.kind != argString && arg.kind != argStringList {
		c.errorf(arg.pos, "the require command accepts a single string or string list argument, but %s was found", arg.name())
		return
	}
	for _, s := range arg.strs {
		c.require(s.pos, s.s)
	}
}

// validate checks a recognized command or test and, unless dead is set
// (a branch that can never run), its tests and block. misplaced marks an
// elsif or else that does not follow an if. The node is nil when the
// command is invalid.
func (c *checker) validate(a *astNode, s *spec, test, dead, misplaced bool) (*node, bool) {
	n := &node{spec: s, pos: a.pos, relop: relNone}
	ok := true
	if start, good := c.arguments(a, s, n); !good {
		ok = false
		c.subtests(a, s)
	} else if !c.subtests(a, s) || (!test && !c.blockOK(a, s)) {
		ok = false
	} else if misplaced {
		c.errorf(a.pos, "the %s command must follow an if or elseif command", s.name)
		ok = false
	} else if !c.positional(a, s, n, start) {
		ok = false
	} else {
		before := len(c.errs.list)
		if (s.match || s.addrPart) && !c.matching(n) {
			ok = false
		}
		if ok && s.check != nil {
			s.check(c, n)
		}
		if len(c.errs.list) > before {
			ok = false
		}
	}
	if !ok && !c.errs.more() {
		return nil, false
	}
	// Tests.
	konst := -1
	if dead {
		konst = 0
	} else if s.tests != noTests {
		var tests []*node
		testsOK := true
		for _, t := range a.tests {
			if !ok && !c.errs.more() {
				break
			}
			ts := c.context(t, true)
			if ts == nil {
				testsOK = false
				continue
			}
			tn, tok := c.validate(t, ts, true, false, false)
			if !tok {
				testsOK = false
				continue
			}
			tests = append(tests, tn)
		}
		ok = ok && testsOK
		n.tests = tests
		if ok {
			konst = constOf(n)
		}
	}
	// Block.
	if a.hasBlock && s.block != noBlock && !test && !(ok && konst == 0) {
		if ok || c.errs.more() {
			if ok && s.enter != nil {
				leave := s.enter(c, n)
				n.block = c.block(a.block, false)
				leave()
			} else {
				n.block = c.block(a.block, false)
			}
		}
	}
	if !ok {
		return nil, false
	}
	if s.name == "if" || s.name == "elsif" {
		if konst >= 0 {
			n.data = ifConst(konst)
		}
	}
	return n, true
}

// constOf computes whether the test of an if/elsif (or a test) is
// constant: 1 true, 0 false, -1 unknown.
func constOf(n *node) int {
	switch n.spec.name {
	case "if", "elsif":
		if len(n.tests) == 1 {
			return constOf(n.tests[0])
		}
		return -1
	}
	if n.spec.ext == "ihave" && isConstFalse(n) {
		return 0
	}
	if !n.spec.test || n.spec.ext != "" {
		return -1
	}
	switch n.spec.name {
	case "true":
		return 1
	case "false":
		return 0
	case "not":
		if k := constOf(n.tests[0]); k >= 0 {
			return 1 - k
		}
	case "allof", "anyof":
		stop := 0 // allof: one false decides
		if n.spec.name == "anyof" {
			stop = 1
		}
		all := true
		for _, t := range n.tests {
			k := constOf(t)
			if k == stop {
				return stop
			}
			if k < 0 {
				all = false
			}
		}
		if all {
			return 1 - stop
		}
	}
	return -1
}

// subtests checks the number of tests a command has.
func (c *checker) subtests(a *astNode, s *spec) bool {
	kind := s.kindName()
	switch s.tests {
	case noTests:
		if len(a.tests) == 0 {
			return true
		}
		t := a.tests[0]
		tname := strings.ToLower(t.name)
		var known *spec
		if tname == "require" {
			known = requireSpec
		}
		for _, ts := range c.reg.specs[tname] {
			if ts.ext == "" || c.script.caps[ts.ext] {
				known = ts
				if ts.test {
					break
				}
			}
		}
		switch {
		case known != nil && known.test:
			c.errorf(a.pos, "the %s %s accepts no sub-tests, but tests are specified", s.name, kind)
		case known == nil && c.tagExists(s, tname):
			c.errorf(a.pos, "missing colon ':' before ':%s' tag in %s %s", tname, s.name, kind)
		default:
			c.errorf(a.pos, "missing semicolon ';' after %s %s", s.name, kind)
		}
		return false
	case oneTest:
		if len(a.tests) == 0 {
			c.errorf(a.pos, "the %s %s requires one sub-test, but none is specified", s.name, kind)
			return false
		}
		if len(a.tests) > 1 || a.testList {
			c.errorf(a.pos, "the %s %s requires one sub-test, but a list of tests is specified", s.name, kind)
			return false
		}
	case testList:
		if len(a.tests) == 0 {
			c.errorf(a.pos, "the %s %s requires a list of sub-tests, but none is specified", s.name, kind)
			return false
		}
		if len(a.tests) == 1 && !a.testList {
			c.errorf(a.pos, "the %s %s requires a list of sub-tests, but a single test is specified", s.name, kind)
			return false
		}
	}
	return true
}

// blockOK checks whether a command has the block it needs.
func (c *checker) blockOK(a *astNode, s *spec) bool {
	switch {
	case s.block == needBlock && !a.hasBlock:
		c.errorf(a.pos, "the %s command requires a command block, but it is missing", s.name)
		return false
	case s.block == noBlock && a.hasBlock:
		c.errorf(a.pos, "the %s command does not accept a command block, but one is specified anyway", s.name)
		return false
	}
	return true
}

// tagExists reports whether name is a tag the command accepts (for the
// "missing colon" diagnosis).
func (c *checker) tagExists(s *spec, name string) bool {
	_, ok := c.findTag(s, name)
	return ok
}

// findTag resolves a tag name for spec s.
func (c *checker) findTag(s *spec, name string) (tagSpec, bool) {
	name = strings.ToLower(name)
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

// groupNames are the identifiers Pigeonhole gives tag families in
// duplicate-argument errors.
var groupNames = map[string]string{"match-type": "MATCH-TYPE", "address-part": "ADDRESS-PART"}

// arguments checks the tagged arguments of a command and the number of
// its positional arguments; it stops at the first error.
func (c *checker) arguments(a *astNode, s *spec, n *node) (start int, ok bool) {
	kind := s.kindName()
	// Every tag must be known.
	specs := make([]tagSpec, len(a.args))
	for i, ar := range a.args {
		if ar.kind != argTag {
			continue
		}
		ts, found := c.findTag(s, ar.tag)
		if !found {
			key := "tag:" + s.name + ":" + strings.ToLower(ar.tag)
			if !c.unknown[key] {
				c.unknown[key] = true
				c.errorf(ar.pos, "unknown tagged argument ':%s' for the %s %s (reported only once at first occurrence)", ar.tag, s.name, kind)
			}
			return 0, false
		}
		specs[i] = ts
	}
	// Leading tags, with their parameters.
	i := 0
	for i < len(a.args) && a.args[i].kind == argTag {
		tg, ts := a.args[i], specs[i]
		for _, prev := range n.tags {
			pts, _ := c.findTag(s, prev.name)
			if prev.name != ts.name && (ts.group == "" || pts.group != ts.group) {
				continue
			}
			switch {
			case strings.Contains(ts.dupErr, "%s"):
				c.errorf(tg.pos, ts.dupErr, prev.name, ts.name)
			case ts.dupErr != "":
				c.errorf(tg.pos, "%s", ts.dupErr)
			case groupNames[ts.group] != "":
				c.errorf(tg.pos, "encountered duplicate %s argument (:%s) for the %s %s", groupNames[ts.group], ts.name, s.name, kind)
			default:
				c.errorf(tg.pos, "encountered duplicate :%s argument for the %s %s", ts.name, s.name, kind)
			}
			return 0, false
		}
		tv := tagVal{name: ts.name, pos: tg.pos}
		i++
		if ts.param != nil {
			var p *arg
			if i < len(a.args) {
				p = &a.args[i]
			}
			if !ts.param(c, s, ts.name, p) {
				return 0, false
			}
		}
		if ts.arg != tNone {
			if i >= len(a.args) {
				c.errorf(tg.pos, "the :%s tag for the %s %s requires %s as parameter, but no parameters were found", ts.name, s.name, kind, article(ts.arg))
				return 0, false
			}
			before := len(c.errs.list)
			v, ok := c.value(a.args[i], ts.arg)
			if len(c.errs.list) > before {
				return 0, false
			}
			if !ok {
				c.errorf(a.args[i].pos, "the :%s tag for the %s %s requires %s as parameter, but %s was found", ts.name, s.name, kind, article(ts.arg), a.args[i].name())
				return 0, false
			}
			tv.v = v
			i++
		}
		n.tags = append(n.tags, tv)
	}
	// Positional arguments.
	count := 0
	for _, ar := range a.args[i:] {
		if ar.kind == argTag {
			c.errorf(ar.pos, "encountered an unexpected tagged argument ':%s' while validating positional arguments for the %s %s", ar.tag, s.name, kind)
			return 0, false
		}
		count++
	}
	if count < len(s.args)-s.optArg || count > len(s.args) {
		c.errorf(a.pos, "the %s %s requires %d positional argument(s), but %d is/are specified", s.name, kind, len(s.args), count)
		return 0, false
	}
	return i, true
}

// positional checks the types of the positional arguments and builds
// their values.
func (c *checker) positional(a *astNode, s *spec, n *node, start int) bool {
	if s == requireSpec {
		return true
	}
	for j, ar := range a.args[start:] {
		before := len(c.errs.list)
		v, ok := c.value(ar, s.args[j])
		if len(c.errs.list) > before {
			return false // the string itself was invalid (and reported)
		}
		if !ok {
			c.errorf(ar.pos, "the %s %s expects %s as argument %d%s, but %s was found", s.name, s.kindName(), article(s.args[j]), j+1, argName(s, j), ar.name())
			return false
		}
		n.args = append(n.args, v)
	}
	return true
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

// name describes an argument as Pigeonhole's messages do ("a number").
func (a arg) name() string {
	switch a.kind {
	case argTag:
		return "a tag"
	case argNumber:
		return "a number"
	case argString:
		return "a string"
	}
	return "a string list"
}
