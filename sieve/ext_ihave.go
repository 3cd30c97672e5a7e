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
		if _, ok := c.reg.exts[s.lit]; !ok || s.lit == "" || !c.enabled[s.lit] {
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

// isConstFalse reports whether n is an ihave test decided false at compile
// time; the validator folds it into if/elsif constants (constOf), so the
// block it guards is not validated.
func isConstFalse(n *node) bool {
	if n.spec.name != "ihave" || n.spec.ext != "ihave" {
		return false
	}
	have, _ := n.data.(bool)
	return !have
}
