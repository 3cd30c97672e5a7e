package sieve

import (
	"errors"
	"regexp"
	"regexp/syntax"
	"strconv"
	"time"
)

// matchType is how a test compares values with keys.
type matchType uint8

const (
	mtIs matchType = iota
	mtContains
	mtMatches
	mtRegex
	mtValue
	mtCount
	mtList // extlists (RFC 6134)
)

var matchTypeNames = [...]string{"is", "contains", "matches", "regex", "value", "count", "list"}

// relOp is a relational operator (RFC 5231).
type relOp uint8

const (
	relNone relOp = iota
	relGT
	relGE
	relLT
	relLE
	relEQ
	relNE
)

// checkRelOp validates the operator of :value and :count, which like
// Pigeonhole must be a lower-case constant.
func checkRelOp(c *checker, s *spec, tag string, a *arg) bool {
	const want = "the :%s match-type requires a constant string argument being one of \"gt\", \"ge\", \"lt\", \"le\", \"eq\" or \"ne\", but %s was found"
	switch {
	case a == nil:
		c.errorf(Position{File: c.file}, want, tag, "none")
		return false
	case a.kind != argString:
		c.errorf(a.pos, want, tag, a.name())
		return false
	case parseRelOp(a.strs[0].s) == relNone:
		c.errorf(a.pos, want, tag, "\""+sanitize(a.strs[0].s, 32)+"\"")
		return false
	}
	return true
}

func parseRelOp(s string) relOp {
	switch s {
	case "gt":
		return relGT
	case "ge":
		return relGE
	case "lt":
		return relLT
	case "le":
		return relLE
	case "eq":
		return relEQ
	case "ne":
		return relNE
	}
	return relNone
}

func (op relOp) holds(c int) bool {
	switch op {
	case relGT:
		return c > 0
	case relGE:
		return c >= 0
	case relLT:
		return c < 0
	case relLE:
		return c <= 0
	case relEQ:
		return c == 0
	case relNE:
		return c != 0
	}
	return false
}

// matchTags are the tags every matching test accepts.
var matchTags = []tagSpec{
	{name: "comparator", arg: tString, group: "comparator"},
	{name: "is", group: "match-type"},
	{name: "contains", group: "match-type"},
	{name: "matches", group: "match-type"},
	{name: "regex", group: "match-type", ext: "regex"},
	{name: "value", arg: tString, group: "match-type", ext: "relational", param: checkRelOp},
	{name: "count", arg: tString, group: "match-type", ext: "relational", param: checkRelOp},
	{name: "list", group: "match-type", ext: "extlists"},
}

// addrPart selects the part of an address a test looks at.
type addrPart uint8

const (
	apAll addrPart = iota
	apLocal
	apDomain
	apUser
	apDetail
)

var addrPartTags = []tagSpec{
	{name: "all", group: "address-part"},
	{name: "localpart", group: "address-part"},
	{name: "domain", group: "address-part"},
	{name: "user", group: "address-part", ext: "subaddress"},
	{name: "detail", group: "address-part", ext: "subaddress"},
}

// matchData is the compile-time part of a matching test.
type matchData struct {
	regexes []*regexp.Regexp // compiled literal :regex keys
}

// matching resolves comparator, match type and address part of n.
func (c *checker) matching(n *node) bool {
	s := n.spec
	n.ap = apAll
	if s.addrPart {
		for _, t := range n.tags {
			switch t.name {
			case "localpart":
				n.ap = apLocal
			case "domain":
				n.ap = apDomain
			case "user":
				n.ap = apUser
			case "detail":
				n.ap = apDetail
			}
		}
	}
	if !s.match {
		return true
	}
	n.mt = mtIs
	cmpName := s.defaultCmp
	if cmpName == "" {
		cmpName = "i;ascii-casemap"
	}
	ok := true
	for _, t := range n.tags {
		switch t.name {
		case "is":
			n.mt = mtIs
		case "contains":
			n.mt = mtContains
		case "matches":
			n.mt = mtMatches
		case "regex":
			n.mt = mtRegex
		case "list":
			n.mt = mtList
		case "value", "count":
			n.mt = mtValue
			if t.name == "count" {
				n.mt = mtCount
			}
			if t.v != nil { // checked by checkRelOp
				n.relop = parseRelOp(t.v.strs[0].lit)
			}
		case "comparator":
			if t.v == nil {
				continue
			}
			cs := t.v.strs[0]
			if cs.parts != nil {
				c.errorf(t.v.pos, "this Sieve implementation currently only supports a literal string argument for the :comparator tag")
				ok = false
				continue
			}
			cmpName = cs.lit
			cmp := comparatorByName(cmpName)
			if cmp == nil {
				c.errorf(t.v.pos, "unknown comparator '%s'", sanitize(cmpName, 80))
				ok = false
				continue
			}
			if cmp != cmpOctet && cmp != cmpASCIICase && cmp != cmpUnicodeCase && !c.script.caps["comparator-"+cmpName] {
				c.errorf(t.v.pos, "unknown comparator '%s'", sanitize(cmpName, 80))
				ok = false
			}
		}
	}
	if !ok {
		return false
	}
	if n.mt == mtList && n.tagValue("comparator") != nil {
		c.errorf(n.pos, "the :list match type does not allow a comparator")
		return false
	}
	n.cmp = comparatorByName(cmpName)
	if n.cmp == nil {
		n.cmp = cmpASCIICase
	}
	if n.mt == mtRegex && n.cmp != cmpOctet && n.cmp != cmpASCIICase && n.cmp != cmpUnicodeCase {
		c.errorf(n.pos, "regex match type only supports i;octet, i;ascii-casemap and i;unicode-casemap comparators")
		return false
	}
	if (n.mt == mtContains || n.mt == mtMatches) && !n.cmp.substring {
		c.errorf(n.pos, "the specified %s comparator does not support sub-string matching as required by the :%s match type", n.cmp.name, matchTypeNames[n.mt])
		return false
	}
	if n.mt == mtRegex && len(n.args) > 0 {
		keys := n.args[len(n.args)-1]
		md := &matchData{}
		for _, k := range keys.strs {
			if k.parts != nil {
				md.regexes = append(md.regexes, nil)
				continue
			}
			re, err := compileRegex(k.lit, n.cmp)
			if err != nil {
				c.errorf(k.pos, "invalid regular expression '%s' for regex match: %s", sanitize(k.lit, 128), regexProblem(err))
				ok = false
			}
			md.regexes = append(md.regexes, re)
		}
		n.data = md
	}
	return ok
}

// compileRegex compiles a POSIX extended regular expression for RE2; the
// comparator decides case sensitivity.
func compileRegex(pat string, cmp *comparator) (*regexp.Regexp, error) {
	switch cmp {
	case cmpASCIICase, cmpUnicodeCase:
		pat = "(?i)" + pat
	}
	return regexp.Compile(pat)
}

// match compares values with keys as node n says, setting match variables
// on success. keys are expanded by the caller.
func (r *run) match(n *node, values []string, keys []string) (bool, error) {
	switch n.mt {
	case mtCount:
		cnt := strconv.Itoa(len(values))
		for _, k := range keys {
			if n.relop.holds(n.cmp.order(cnt, k)) {
				return true, nil
			}
		}
		return false, nil
	case mtList:
		return r.matchList(n, values, keys)
	}
	var regexes []*regexp.Regexp
	if n.mt == mtRegex {
		if md, ok := n.data.(*matchData); ok {
			regexes = md.regexes
		}
	}
	wantCaps := r.script.caps["variables"]
	for _, v := range values {
		for ki, k := range keys {
			if err := r.step(); err != nil {
				return false, err
			}
			switch n.mt {
			case mtIs:
				if n.cmp.is(v, k) {
					return true, nil
				}
			case mtContains:
				if n.cmp.contains(v, k) {
					return true, nil
				}
			case mtMatches:
				mv, mk := v, k
				if d := n.cmp.decompose; d != nil {
					mv, mk = d(v), d(k)
				}
				if wantCaps {
					var caps []string
					if globMatch(mk, mv, n.cmp.runeEq, &caps) {
						r.setMatch(append([]string{mv}, caps...))
						return true, nil
					}
				} else if globMatch(mk, mv, n.cmp.runeEq, nil) {
					return true, nil
				}
			case mtRegex:
				var re *regexp.Regexp
				if ki < len(regexes) {
					re = regexes[ki]
				}
				if re == nil {
					var err error
					re, err = compileRegex(k, n.cmp)
					if err != nil {
						r.softErrorf(n.pos, "invalid regular expression '%s' for regex match: %s", sanitize(k, 128), regexProblem(err))
						continue
					}
				}
				if err := r.chargeRegex(n.pos, re.String(), v, wantCaps); err != nil {
					return false, err
				}
				if wantCaps {
					if m := re.FindStringSubmatch(v); m != nil {
						r.setMatch(m)
						return true, nil
					}
				} else if re.MatchString(v) {
					return true, nil
				}
			case mtValue:
				if n.relop.holds(n.cmp.order(v, k)) {
					return true, nil
				}
			}
		}
	}
	return false, nil
}

// regexProblem words a regular expression compile error without Go's
// "error parsing regexp: " prefix.
func regexProblem(err error) string {
	var se *syntax.Error
	if errors.As(err, &se) {
		return string(se.Code)
	}
	return err.Error()
}

// regexWorkPerSecond estimates how many units of regular expression
// matching (pattern bytes times subject bytes, which bounds RE2's work)
// one CPU second does. A match cannot be interrupted, so
// sieve_max_cpu_time is enforced on this estimate before each match.
const regexWorkPerSecond = 100_000_000

// chargeRegex accounts for matching subject against pattern and fails the
// run when the estimated work exceeds sieve_max_cpu_time (default 30s).
func (r *run) chargeRegex(p Position, pattern, subject string, captures bool) error {
	if r.workLimit == 0 {
		r.workLimit = -1
		if d := r.settings().Duration("sieve_max_cpu_time", 30*time.Second); d > 0 {
			r.workLimit = int64(d.Seconds() * regexWorkPerSecond)
		}
	}
	units := int64(len(pattern)+1) * int64(len(subject)+1)
	if captures {
		units *= 4 // extracting submatches runs the slower NFA
	}
	r.work += units
	if r.workLimit > 0 && r.work > r.workLimit {
		return &Error{Pos: p, Msg: "execution exceeded CPU time limit"}
	}
	return nil
}
