package sieve

// node is a validated command or test, ready to run. Nodes are immutable
// once compilation ends and are shared by concurrent runs.
type node struct {
	spec  *spec
	pos   Position
	tags  []tagVal
	args  []*value
	tests []*node
	block []*node
	// alt is the elsif/else that follows an if or elsif.
	alt *node

	cmp   *comparator
	mt    matchType
	relop relOp
	ap    addrPart

	data any // spec-specific data computed by check
}

type tagVal struct {
	name string
	pos  Position
	v    *value // nil for tags without an argument
}

// value is a checked argument.
type value struct {
	pos  Position
	typ  argType
	num  uint64
	strs []*str
	list bool // written as a bracketed list
}

// str is a string argument; parts is non-nil when it references variables.
type str struct {
	pos   Position
	lit   string
	parts []strPart
}

// strPart is a piece of a string with variable references: a literal, a
// variable name, or a match variable index.
type strPart struct {
	lit   string
	name  string // variable name (lower case), "" for literals and match vars
	match int    // match variable index, -1 when not one
}

func (n *node) tag(name string) (*tagVal, bool) {
	for i := range n.tags {
		if n.tags[i].name == name {
			return &n.tags[i], true
		}
	}
	return nil, false
}

func (n *node) has(name string) bool {
	_, ok := n.tag(name)
	return ok
}

// tagValue returns the argument of tag name, or nil.
func (n *node) tagValue(name string) *value {
	if t, ok := n.tag(name); ok {
		return t.v
	}
	return nil
}
