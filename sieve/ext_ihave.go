package sieve

import "strings"

// ihave (RFC 5463): the ihave test and the error command.
//
// As in Pigeonhole the test is decided at compile time. When every named
// capability is known and enabled, they are required (their commands, tests
// and tags become usable) and the test is true. Otherwise it is constantly
// false and the block of an if/elsif controlled by it is not validated, so
// it may use commands this implementation does not have. Capabilities that
// change how a script is read (variables, encoded-character) are never
// loaded by ihave (RFC 5463 §4): the test is false for them.

func ihaveExtension() *extension {
	return &extension{name: "ihave", specs: []*spec{
		{
			name: "ihave", test: true,
			args: []argType{tStringList}, argNames: []string{"capabilities"},
			check: checkIhave,
			eval: func(r *run, n *node) (bool, error) {
				have, _ := n.data.(bool)
				return have, nil
			},
		},
		{
			name: "error",
			args: []argType{tString}, argNames: []string{"message"},
			exec: func(r *run, n *node) error {
				return r.errorf(n.pos, "%s", r.string(n.args[0]))
			},
		},
	}}
}

func checkIhave(c *checker, n *node) {
	n.data = false
	var names []*str
	for _, s := range n.args[0].strs {
		if _, ok := stdRegistry().exts[s.lit]; !ok || s.lit == "" || !c.enabled[s.lit] {
			return
		}
		names = append(names, s)
	}
	for _, s := range names {
		switch strings.ToLower(s.lit) {
		case "variables", "encoded-character":
			return
		}
	}
	for _, s := range names {
		c.require(s.pos, s.lit)
	}
	n.data = true
}

// constFalse reports whether a test list is false whatever the message:
// a failed ihave, an allof holding one, or an anyof of nothing else (the
// constant folding Pigeonhole applies to decide which blocks to skip).
func constFalse(tests []*node) bool {
	return len(tests) == 1 && isConstFalse(tests[0])
}

func isConstFalse(n *node) bool {
	switch n.spec.name {
	case "ihave":
		if n.spec.ext == "ihave" {
			have, _ := n.data.(bool)
			return !have
		}
	case "allof":
		for _, t := range n.tests {
			if isConstFalse(t) {
				return true
			}
		}
	case "anyof":
		for _, t := range n.tests {
			if !isConstFalse(t) {
				return false
			}
		}
		return len(n.tests) > 0
	}
	return false
}
