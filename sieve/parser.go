package sieve

// parser builds the parse tree (RFC 5228 §8.2). It follows Pigeonhole's
// parser closely, including its error recovery, so that a broken script
// yields the same errors (and the same number of them) as Pigeonhole.
type parser struct {
	lex   *lexer
	tok   token
	errs  *errorSink
	valid bool
	// maxBlock and maxTest bound the nesting of blocks and of tests.
	maxBlock, maxTest int
}

// Limits of the grammar (Pigeonhole's sieve-limits.h); the nesting limit
// is configurable through Limits.Nesting.
const (
	maxCommandArgs = 32
	defaultNesting = 32
)

type errorSink struct {
	list     ErrorList
	warnings ErrorList
	max      int
}

func (e *errorSink) add(p Position, format string, args ...any) {
	if e.max > 0 && len(e.list) >= e.max {
		return
	}
	e.list = append(e.list, &Error{Pos: p, Msg: sprintf(format, args...)})
}

func (e *errorSink) warn(p Position, format string, args ...any) {
	e.warnings = append(e.warnings, &Error{Pos: p, Msg: sprintf(format, args...)})
}

// more reports whether more errors may be reported.
func (e *errorSink) more() bool { return e.max <= 0 || len(e.list) < e.max }

// parse returns the commands of a script; on any error it reports them
// and returns ok false.
func parse(file, src string, errs *errorSink, nesting int) (cmds []*astNode, ok bool) {
	if nesting <= 0 {
		nesting = defaultNesting
	}
	p := &parser{errs: errs, valid: true, maxBlock: nesting, maxTest: nesting}
	p.lex = newLexer(file, src, errs.add)
	p.lex.warnf = errs.warn
	p.next()
	root := &astNode{}
	if p.commands(root, 1) > 0 && p.valid {
		if p.tok.kind != tokEOF {
			p.errorf("unexpected %s found at (the presumed) end of file", p.tok.describe())
		}
	} else {
		p.valid = false
	}
	return root.block, p.valid
}

func (p *parser) next() { p.tok = p.lex.next() }

// errorf reports a parse error at the current token, unless the lexer
// already reported that token.
func (p *parser) errorf(format string, args ...any) {
	if p.tok.kind != tokError {
		p.errs.add(p.tok.pos, format, args...)
	}
	p.valid = false
}

// stopping reports whether parsing should give up: an error was found and
// no more may be reported.
func (p *parser) stopping() bool { return !p.valid && !p.errs.more() }

// commands parses commands into block until a token that cannot start
// one. It returns 1 when in a defined state, 0 when recovery failed and
// -1 when parsing must stop.
func (p *parser) commands(block *astNode, depth int) int {
	result := 1
	for result > 0 && p.tok.kind == tokIdent {
		if p.stopping() {
			return p.recover(tokSemicolon)
		}
		cmd := &astNode{pos: p.tok.pos, name: p.tok.text}
		block.block = append(block.block, cmd)
		p.next()
		result = p.arguments(cmd, 1)
		if result > 0 && p.tok.kind != tokSemicolon && p.tok.kind != tokLBrace {
			p.errorf("expected end of command ';' or the beginning of a compound block '{', but found %s", p.tok.describe())
			result = 0
		}
		if result == 0 {
			result = p.recover(tokSemicolon)
		}
		if result <= 0 {
			return result
		}
		switch p.tok.kind {
		case tokSemicolon:
			p.next()
		case tokLBrace:
			p.next()
			if depth+1 > p.maxBlock {
				p.errorf("cannot nest command blocks deeper than %d levels", p.maxBlock)
				if result = p.recover(tokRBrace); result > 0 {
					p.next()
				}
				continue
			}
			cmd.hasBlock = true
			if result = p.commands(cmd, depth+1); result > 0 {
				if p.tok.kind != tokRBrace {
					p.errorf("expected end of compound block '}', but found %s", p.tok.describe())
					result = p.recover(tokRBrace)
				} else {
					p.next()
				}
			} else if result < 0 {
				return result
			} else if result = p.recover(tokRBrace); result > 0 {
				p.next()
			}
		}
	}
	return result
}

// arguments parses *argument [test / test-list] into n.
func (p *parser) arguments(n *astNode, depth int) int {
	result := 1
args:
	for result > 0 {
		if p.stopping() {
			result = 0
			break
		}
		switch p.tok.kind {
		case tokLBracket:
			a := arg{kind: argStringList, pos: p.tok.pos}
			p.next()
			if p.tok.kind == tokString {
				a.strs = append(a.strs, strLit{p.tok.pos, p.tok.text})
				p.next()
				for p.tok.kind == tokComma {
					p.next()
					if p.stopping() {
						result = p.recover(tokRBracket)
						break
					}
					if p.tok.kind != tokString {
						p.errorf("expecting string after ',' in string list, but found %s", p.tok.describe())
						result = p.recover(tokRBracket)
						break
					}
					a.strs = append(a.strs, strLit{p.tok.pos, p.tok.text})
					p.next()
				}
			} else {
				p.errorf("expecting string after '[' in string list, but found %s", p.tok.describe())
				result = p.recover(tokRBracket)
			}
			n.args = append(n.args, a)
			if p.tok.kind == tokRBracket {
				p.next()
			} else {
				p.errorf("expecting ',' or end of string list ']', but found %s", p.tok.describe())
				if result = p.recover(tokRBracket); result > 0 {
					p.next()
				}
			}
		case tokString:
			n.args = append(n.args, arg{kind: argString, pos: p.tok.pos, strs: []strLit{{p.tok.pos, p.tok.text}}, multi: p.tok.multi})
			p.next()
		case tokNumber:
			n.args = append(n.args, arg{kind: argNumber, pos: p.tok.pos, num: p.tok.num})
			p.next()
		case tokTag:
			n.args = append(n.args, arg{kind: argTag, pos: p.tok.pos, tag: p.tok.text})
			p.next()
		default:
			break args
		}
		if len(n.args) > maxCommandArgs {
			p.errorf("too many arguments for command '%s'", n.name)
			return 0
		}
	}
	if result <= 0 {
		return result
	}
	switch p.tok.kind {
	case tokIdent:
		if depth+1 > p.maxTest {
			p.errorf("cannot nest tests deeper than %d levels", p.maxTest)
			return 0
		}
		t := &astNode{pos: p.tok.pos, name: p.tok.text}
		n.tests = append(n.tests, t)
		p.next()
		if p.arguments(t, depth+1) <= 0 {
			return 0
		}
	case tokLParen:
		noTest := false
		p.next()
		if depth+1 > p.maxTest {
			p.errorf("cannot nest tests deeper than %d levels", p.maxTest)
			if result = p.recover(tokRParen); result > 0 {
				p.next()
			}
			return result
		}
		n.testList = true
		if p.tok.kind == tokIdent {
			t := &astNode{pos: p.tok.pos, name: p.tok.text}
			n.tests = append(n.tests, t)
			p.next()
			if result = p.arguments(t, depth+1); result > 0 {
				for p.tok.kind == tokComma {
					p.next()
					if p.stopping() {
						result = p.recover(tokRParen)
						break
					}
					if p.tok.kind != tokIdent {
						p.errorf("expecting test identifier after ',' in test list, but found %s", p.tok.describe())
						result = p.recover(tokRParen)
						break
					}
					t := &astNode{pos: p.tok.pos, name: p.tok.text}
					n.tests = append(n.tests, t)
					p.next()
					if result = p.arguments(t, depth+1); result <= 0 {
						if result < 0 {
							return result
						}
						result = p.recover(tokRParen)
						break
					}
				}
			} else if result < 0 {
				return result
			} else {
				result = p.recover(tokRParen)
			}
		} else {
			p.errorf("expecting test identifier after '(' in test list, but found %s", p.tok.describe())
			result = p.recover(tokRParen)
			noTest = true
		}
		if p.tok.kind == tokRParen {
			p.next()
		} else {
			p.errorf("expecting ',' or end of test list ')', but found %s", p.tok.describe())
			if result = p.recover(tokRParen); result > 0 {
				p.next()
			}
		}
		if noTest {
			// Pigeonhole gives up on a test list without any test.
			p.errorf("failed to accept more tests for command '%s'", n.name)
			return -1
		}
	}
	return result
}

// recoverPrio ranks the tokens that end grammatical structures.
func recoverPrio(k tokenKind) int {
	switch k {
	case tokLBrace, tokRBrace:
		return 3
	case tokSemicolon:
		return 2
	case tokLParen, tokRParen:
		return 1
	case tokLBracket, tokRBracket:
		return 0
	}
	return -1
}

// recover skips to the token that ends the structure closed by end,
// honouring nesting; it returns 1 when positioned on that token (or, for
// a command, on the '{' of its block) and 0 when it ran into the end of an
// enclosing structure or the end of the script.
func (p *parser) recover(end tokenKind) int {
	begins := [4]tokenKind{tokLBracket, tokLParen, -1, tokLBrace}
	ends := [4]tokenKind{tokRBracket, tokRParen, tokSemicolon, tokRBrace}
	prio := recoverPrio(end)
	nesting := 1
	for p.tok.kind != tokEOF && recoverPrio(p.tok.kind) <= prio {
		if p.tok.kind == begins[prio] {
			nesting++
			p.next()
			continue
		}
		if p.tok.kind == ends[prio] {
			nesting--
			if nesting == 0 {
				return 1
			}
		}
		p.next()
	}
	if end == tokSemicolon && p.tok.kind == tokLBrace {
		return 1
	}
	return 0
}
