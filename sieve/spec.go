package sieve

// argType is the type of a positional argument or of a tag's argument.
type argType uint8

const (
	tNone       argType = iota // a tag that takes no argument
	tString                    // a single string
	tStringList                // a string or a string list
	tNumber
)

func (t argType) String() string {
	switch t {
	case tString:
		return "string"
	case tStringList:
		return "string list"
	case tNumber:
		return "number"
	}
	return "nothing"
}

// tagSpec describes a tagged argument a command accepts.
type tagSpec struct {
	name  string  // without ':'
	arg   argType // what follows the tag
	group string  // tags of one group exclude each other (e.g. "period")
	ext   string  // capability that must be required for the tag to exist
	// dupErr, when set, is the error for a repeated tag of the group
	// (instead of Pigeonhole's generic "encountered duplicate ..."); two
	// %s in it receive the earlier and the later tag's names.
	dupErr string
	// param, when set, validates the tag's parameter (nil when there is
	// none) instead of the generic type check, reporting its own errors.
	param func(c *checker, s *spec, tag string, a *arg) bool
}

type testArity uint8

const (
	noTests  testArity = iota
	oneTest            // a single test (if, not)
	testList           // a parenthesized list (allof, anyof)
)

type blockKind uint8

const (
	noBlock blockKind = iota
	needBlock
)

// spec describes a command or a test: its arguments, how to validate it and
// how to run it. Extensions contribute specs.
type spec struct {
	name string
	test bool
	ext  string // capability that provides it; "" for the base language

	tags   []tagSpec
	args   []argType // positional arguments, in order
	optArg int       // how many trailing positional arguments may be left out
	// argNames names positional arguments in error messages, e.g. "header names".
	argNames []string

	match    bool // accepts :comparator and a match type
	addrPart bool // accepts an address part (:all, :localpart, :domain, ...)
	// defaultCmp is the comparator used when :comparator is absent.
	defaultCmp string

	tests testArity
	block blockKind

	// check runs after generic argument validation; it may report errors
	// and fill n.data.
	check func(c *checker, n *node)
	// enter, when set, runs before the command's block is validated
	// (loops use it to let break find them); the returned function runs
	// after.
	enter func(c *checker, n *node) (leave func())
	exec  func(r *run, n *node) error
	eval  func(r *run, n *node) (bool, error)
}

func (s *spec) kindName() string {
	if s.test {
		return "test"
	}
	return "command"
}
