package sieve

import "errors"

// The foreverypart extension (RFC 5703 §3): the foreverypart loop over
// the message's MIME parts and break. As in Pigeonhole, an outermost loop
// visits every part depth first, starting with the message itself, and a
// nested loop visits the parts below the current part of the loop around
// it (up to the current part's next sibling, or to the end of the
// message for a last child, as Pigeonhole does). Multipart epilogues are
// not parts. Parts come from the body
// extension's parser (ext_body_mime.go).

func foreverypartExtension() *extension {
	return &extension{name: "foreverypart", specs: []*spec{
		{name: "foreverypart", tags: []tagSpec{{name: "name", arg: tString}}, block: needBlock,
			check: checkForEveryPart, enter: enterForEveryPart, exec: execForEveryPart},
		{name: "break", tags: []tagSpec{{name: "name", arg: tString}}, check: checkBreak, exec: execBreak},
	}}
}

// maxLoopDepth is Pigeonhole's SIEVE_MAX_LOOP_DEPTH.
const maxLoopDepth = 4

// loopScope is the checker state: the foreverypart loops enclosing the
// command being validated, innermost last.
type loopScope struct{ loops []*node }

func (c *checker) loopScope() *loopScope {
	s, _ := c.state["foreverypart"].(*loopScope)
	if s == nil {
		s = &loopScope{}
		c.state["foreverypart"] = s
	}
	return s
}

// loopName is the literal :name of a foreverypart or break, "" if none.
func loopName(n *node) (string, bool) {
	v := n.tagValue("name")
	if v == nil || len(v.strs) == 0 {
		return "", false
	}
	return v.strs[0].lit, true
}

func checkForEveryPart(c *checker, n *node) {
	if len(c.loopScope().loops)+1 > maxLoopDepth {
		c.errorf(n.pos, "the nested foreverypart loop exceeds the nesting limit (<= %d levels)", maxLoopDepth)
	}
}

func enterForEveryPart(c *checker, n *node) func() {
	s := c.loopScope()
	s.loops = append(s.loops, n)
	return func() { s.loops = s.loops[:len(s.loops)-1] }
}

// checkBreak finds the loop a break leaves: the innermost one, or the
// innermost one with the break's :name; n.data holds it.
func checkBreak(c *checker, n *node) {
	name, named := loopName(n)
	loops := c.loopScope().loops
	for i := len(loops) - 1; i >= 0; i-- {
		ln, lnamed := loopName(loops[i])
		if !named || (lnamed && ln == name) {
			n.data = loops[i]
			return
		}
	}
	if !named {
		c.errorf(n.pos, "the break command is not placed inside a foreverypart loop")
		return
	}
	c.errorf(n.pos, "the break command is not placed inside a foreverypart loop named '%s'", sanitize(name, 80))
}

// partLoop is a running foreverypart: the parts it iterates and the index
// of the current one.
type partLoop struct {
	parts []*mimePart
	idx   int
}

// loopStack is the per-run foreverypart state, innermost loop last.
type loopStack struct{ loops []*partLoop }

func (r *run) loopStack() *loopStack {
	s, _ := r.ext["foreverypart"].(*loopStack)
	if s == nil {
		s = &loopStack{}
		r.ext["foreverypart"] = s
	}
	return s
}

// currentLoop is the innermost running foreverypart, or nil.
func (r *run) currentLoop() *partLoop {
	s, _ := r.ext["foreverypart"].(*loopStack)
	if s == nil || len(s.loops) == 0 {
		return nil
	}
	return s.loops[len(s.loops)-1]
}

// currentPart is the part the innermost foreverypart is at, or nil
// outside any loop.
func (r *run) currentPart() *mimePart {
	if l := r.currentLoop(); l != nil {
		return l.parts[l.idx]
	}
	return nil
}

// loopBreak unwinds execution from a break to the loop it leaves.
type loopBreak struct{ loop *node }

func (b *loopBreak) Error() string { return "break outside of its foreverypart loop" }

func execBreak(r *run, n *node) error {
	return &loopBreak{loop: n.data.(*node)}
}

func execForEveryPart(r *run, n *node) error {
	st := r.loopStack()
	// Loops nested through include are only known at run time.
	if len(st.loops) >= maxLoopDepth {
		return r.errorf(n.pos, "new program loop exceeds the nesting limit (<= %d levels)", maxLoopDepth)
	}
	var parts []*mimePart
	from, to := 0, 0
	if outer := r.currentLoop(); outer != nil {
		parts = outer.parts
		if !parts[outer.idx].children {
			return nil
		}
		from, to = outer.idx+1, subtreeEnd(parts, outer.idx)
	} else {
		parts = r.bodyParts()
		to = len(parts)
	}
	for i := from; i < to; i++ {
		if parts[i].epilogue {
			continue
		}
		if err := r.step(); err != nil {
			return err
		}
		st.loops = append(st.loops, &partLoop{parts: parts, idx: i})
		err := r.exec(n.block)
		st.loops = st.loops[:len(st.loops)-1]
		if err != nil {
			var b *loopBreak
			if errors.As(err, &b) && b.loop == n {
				return nil
			}
			return err
		}
		if r.stopped || r.returned {
			return nil
		}
	}
	return nil
}
