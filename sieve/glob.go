package sieve

import "unicode/utf8"

// globMatch matches s against a :matches pattern ('*' any sequence, '?' one
// character, '\' escapes). When caps is non-nil, it receives the text each
// wildcard matched, in order, with the shortest match for each wildcard
// (RFC 5229 §3.2). Matching is O(len(pattern)·len(s)) at worst.
func globMatch(pattern, s string, eq func(a, b rune) bool, caps *[]string) bool {
	p := compileGlob(pattern)
	if caps == nil {
		return p.match(s, eq)
	}
	return p.capture(s, eq, caps)
}

type globTok struct {
	kind byte // 'c' literal rune, '?' one char, '*' any
	r    rune
}

type globPattern []globTok

func compileGlob(pattern string) globPattern {
	var out globPattern
	for i := 0; i < len(pattern); {
		r, n := utf8.DecodeRuneInString(pattern[i:])
		i += n
		switch r {
		case '*':
			out = append(out, globTok{kind: '*'})
		case '?':
			out = append(out, globTok{kind: '?'})
		case '\\':
			if i < len(pattern) {
				r, n = utf8.DecodeRuneInString(pattern[i:])
				i += n
			}
			out = append(out, globTok{kind: 'c', r: r})
		default:
			out = append(out, globTok{kind: 'c', r: r})
		}
	}
	return out
}

// match is the classic single-backtrack wildcard matcher.
func (p globPattern) match(s string, eq func(a, b rune) bool) bool {
	pi, si := 0, 0
	starP, starS := -1, 0
	for si < len(s) {
		if pi < len(p) {
			t := p[pi]
			switch t.kind {
			case '*':
				starP, starS = pi, si
				pi++
				continue
			case '?':
				_, n := utf8.DecodeRuneInString(s[si:])
				si += n
				pi++
				continue
			default:
				r, n := utf8.DecodeRuneInString(s[si:])
				if eq(r, t.r) {
					si += n
					pi++
					continue
				}
			}
		}
		if starP < 0 {
			return false
		}
		_, n := utf8.DecodeRuneInString(s[starS:])
		starS += n
		pi, si = starP+1, starS
	}
	for pi < len(p) && p[pi].kind == '*' {
		pi++
	}
	return pi == len(p)
}

// capture matches with shortest-first wildcards, recording captures. It
// memoizes failed (pattern, subject) positions so it stays polynomial.
func (p globPattern) capture(s string, eq func(a, b rune) bool, caps *[]string) bool {
	if !p.match(s, eq) {
		return false
	}
	n := 0
	for _, t := range p {
		if t.kind != 'c' {
			n++
		}
	}
	out := make([]string, n)
	failed := newPosSet(len(p)+1, len(s)+1)
	var rec func(pi, si, ci int) bool
	rec = func(pi, si, ci int) bool {
		if pi == len(p) {
			return si == len(s)
		}
		if failed.has(pi, si) {
			return false
		}
		t := p[pi]
		switch t.kind {
		case 'c':
			if si < len(s) {
				r, w := utf8.DecodeRuneInString(s[si:])
				if eq(r, t.r) && rec(pi+1, si+w, ci) {
					return true
				}
			}
		case '?':
			if si < len(s) {
				_, w := utf8.DecodeRuneInString(s[si:])
				out[ci] = s[si : si+w]
				if rec(pi+1, si+w, ci+1) {
					return true
				}
			}
		case '*':
			for end := si; ; {
				out[ci] = s[si:end]
				if rec(pi+1, end, ci+1) {
					return true
				}
				if end >= len(s) {
					break
				}
				_, w := utf8.DecodeRuneInString(s[end:])
				end += w
			}
		}
		failed.add(pi, si)
		return false
	}
	if !rec(0, 0, 0) {
		return false
	}
	*caps = out
	return true
}

// posSet is a set of (pattern, subject) positions: a bitmap when that is
// small, a map otherwise.
type posSet struct {
	cols int
	bits []uint64
	m    map[[2]int]struct{}
}

// maxPosBits bounds the bitmap (128 KiB); larger inputs use a map.
const maxPosBits = 1 << 20

func newPosSet(rows, cols int) *posSet {
	if rows*cols <= maxPosBits {
		return &posSet{cols: cols, bits: make([]uint64, (rows*cols+63)/64)}
	}
	return &posSet{m: map[[2]int]struct{}{}}
}

func (s *posSet) has(r, c int) bool {
	if s.bits != nil {
		i := r*s.cols + c
		return s.bits[i/64]&(1<<(i%64)) != 0
	}
	_, ok := s.m[[2]int{r, c}]
	return ok
}

func (s *posSet) add(r, c int) {
	if s.bits != nil {
		i := r*s.cols + c
		s.bits[i/64] |= 1 << (i % 64)
		return
	}
	s.m[[2]int{r, c}] = struct{}{}
}
