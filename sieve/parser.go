package sieve

// parser builds the parse tree (RFC 5228 §8.2). It reports every error it
// can find and recovers at the next ';' or block boundary.
type parser struct {
	lex  *lexer
	tok  token
	errs *errorSink
	// depth of nested blocks and tests, bounded to keep recursion safe.
	depth int
}

// maxParseDepth bounds nesting of blocks and tests while parsing; deeper
// input is an error rather than a stack overflow.
const maxParseDepth = 256

type errorSink struct {
	list ErrorList
	max  int
}

func (e *errorSink) add(p Position, format string, args ...any) {
	if e.max > 0 && len(e.list) >= e.max {
		return
	}
	e.list = append(e.list, &Error{Pos: p, Msg: sprintf(format, args...)})
}

func parse(file, src string, errs *errorSink) []*astNode {
	p := &parser{errs: errs}
	p.lex = newLexer(file, src, errs.add)
	p.next()
	var cmds []*astNode
	for p.tok.kind != tokEOF {
		if p.tok.kind == tokRBrace {
			p.errs.add(p.tok.pos, "unexpected '}' found at top level (no block open)")
			p.next()
			continue
		}
		if c := p.command(); c != nil {
			cmds = append(cmds, c)
		}
	}
	return cmds
}

func (p *parser) next() {
	for {
		p.tok = p.lex.next()
		if p.tok.kind != tokError {
			return
		}
	}
}

// recover skips to just after the next ';' or to the next '}'/'{' block.
func (p *parser) recover() {
	depth := 0
	for p.tok.kind != tokEOF {
		switch p.tok.kind {
		case tokSemicolon:
			if depth == 0 {
				p.next()
				return
			}
		case tokLBrace:
			depth++
		case tokRBrace:
			if depth == 0 {
				return
			}
			depth--
			if depth == 0 {
				p.next()
				return
			}
		}
		p.next()
	}
}

func (p *parser) command() *astNode {
	if p.tok.kind != tokIdent {
		p.errs.add(p.tok.pos, "expected identifier (command name), but found %s", p.tok.describe())
		p.recover()
		return nil
	}
	n := &astNode{pos: p.tok.pos, name: p.tok.text}
	p.next()
	if !p.arguments(n) {
		p.recover()
		return nil
	}
	switch p.tok.kind {
	case tokSemicolon:
		p.next()
		return n
	case tokLBrace:
		if !p.block(n) {
			return nil
		}
		return n
	}
	p.errs.add(p.tok.pos, "expected ';' or '{' after command '%s', but found %s", n.name, p.tok.describe())
	p.recover()
	return nil
}

func (p *parser) block(n *astNode) bool {
	p.depth++
	defer func() { p.depth-- }()
	if p.depth > maxParseDepth {
		p.errs.add(p.tok.pos, "nesting too deep")
		p.recover()
		return false
	}
	n.hasBlock = true
	open := p.tok.pos
	p.next()
	for p.tok.kind != tokRBrace {
		if p.tok.kind == tokEOF {
			p.errs.add(open, "end of file before end of block started with '{'")
			return false
		}
		if c := p.command(); c != nil {
			n.block = append(n.block, c)
		}
	}
	p.next()
	return true
}

// arguments parses *argument [test / test-list].
func (p *parser) arguments(n *astNode) bool {
	for {
		switch p.tok.kind {
		case tokTag:
			n.args = append(n.args, arg{kind: argTag, pos: p.tok.pos, tag: p.tok.text})
			p.next()
		case tokNumber:
			n.args = append(n.args, arg{kind: argNumber, pos: p.tok.pos, num: p.tok.num})
			p.next()
		case tokString:
			n.args = append(n.args, arg{kind: argString, pos: p.tok.pos, strs: []strLit{{p.tok.pos, p.tok.text}}, multi: p.tok.multi})
			p.next()
		case tokLBracket:
			a, ok := p.stringList()
			if !ok {
				return false
			}
			n.args = append(n.args, a)
		default:
			goto tests
		}
	}
tests:
	switch p.tok.kind {
	case tokIdent:
		t := p.test()
		if t == nil {
			return false
		}
		n.tests = []*astNode{t}
	case tokLParen:
		tl, ok := p.testList()
		if !ok {
			return false
		}
		n.tests = tl
		n.testList = true
	}
	return true
}

func (p *parser) stringList() (arg, bool) {
	a := arg{kind: argStringList, pos: p.tok.pos}
	p.next()
	for {
		if p.tok.kind != tokString {
			p.errs.add(p.tok.pos, "expected string while parsing string list, but found %s", p.tok.describe())
			return a, false
		}
		a.strs = append(a.strs, strLit{p.tok.pos, p.tok.text})
		p.next()
		switch p.tok.kind {
		case tokComma:
			p.next()
		case tokRBracket:
			p.next()
			return a, true
		default:
			p.errs.add(p.tok.pos, "expected ',' or end of string list ']', but found %s", p.tok.describe())
			return a, false
		}
	}
}

func (p *parser) test() *astNode {
	p.depth++
	defer func() { p.depth-- }()
	if p.depth > maxParseDepth {
		p.errs.add(p.tok.pos, "nesting too deep")
		return nil
	}
	n := &astNode{pos: p.tok.pos, name: p.tok.text}
	p.next()
	if !p.arguments(n) {
		return nil
	}
	return n
}

func (p *parser) testList() ([]*astNode, bool) {
	p.next()
	var list []*astNode
	for {
		if p.tok.kind != tokIdent {
			p.errs.add(p.tok.pos, "expected test command, but found %s", p.tok.describe())
			return nil, false
		}
		t := p.test()
		if t == nil {
			return nil, false
		}
		list = append(list, t)
		switch p.tok.kind {
		case tokComma:
			p.next()
		case tokRParen:
			p.next()
			return list, true
		default:
			p.errs.add(p.tok.pos, "expected ',' or end of test list ')', but found %s", p.tok.describe())
			return nil, false
		}
	}
}
