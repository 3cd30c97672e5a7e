package sieve

// The parse tree. Every node carries the position it starts at.

// argKind tells what an argument is.
type argKind int

const (
	argTag argKind = iota
	argNumber
	argString     // a single string
	argStringList // a bracketed list
)

// arg is one argument of a command or test as written.
type arg struct {
	kind  argKind
	pos   Position
	tag   string // argTag: name without ':'
	num   uint64
	strs  []strLit // argString (one element) and argStringList
	multi bool     // argString from text:
}

type strLit struct {
	pos Position
	s   string
}

// astNode is a command or a test as parsed.
type astNode struct {
	pos   Position
	name  string
	args  []arg
	tests []*astNode // the test or test list
	// testList is true when the tests were written in parentheses.
	testList bool
	block    []*astNode
	hasBlock bool
}

func (a arg) describe() string {
	switch a.kind {
	case argTag:
		return "tag ':" + a.tag + "'"
	case argNumber:
		return "number"
	case argString:
		return "string"
	}
	return "string list"
}
