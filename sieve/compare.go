package sieve

import (
	"strings"
	"unicode"
	"unicode/utf8"

	"golang.org/x/text/unicode/norm"
)

// comparator is a collation (RFC 4790) used by matching tests.
type comparator struct {
	name      string
	substring bool // supports :contains, :matches and :regex
	// runeEq compares single characters (for :matches).
	runeEq func(a, b rune) bool
	// fold maps a string to the form compared by :is and :contains.
	fold func(string) string
	// order compares two strings: <0, 0, >0 (for :value, :count).
	order func(a, b string) int
	// decompose, when set, rewrites a value and a key before :matches
	// compares them rune by rune with runeEq.
	decompose func(string) string
}

var (
	cmpOctet = &comparator{
		name: "i;octet", substring: true,
		runeEq: func(a, b rune) bool { return a == b },
		fold:   func(s string) string { return s },
		order:  strings.Compare,
	}
	cmpASCIICase = &comparator{
		name: "i;ascii-casemap", substring: true,
		runeEq: func(a, b rune) bool { return asciiLowerRune(a) == asciiLowerRune(b) },
		fold:   asciiLower,
		order:  func(a, b string) int { return strings.Compare(asciiLower(a), asciiLower(b)) },
	}
	cmpUnicodeCase = &comparator{
		name: "i;unicode-casemap", substring: true,
		runeEq:    func(a, b rune) bool { return a == b || unicodeFoldRune(a) == unicodeFoldRune(b) },
		fold:      unicodeFold,
		order:     func(a, b string) int { return strings.Compare(unicodeFold(a), unicodeFold(b)) },
		decompose: decompose,
	}
	cmpNumeric = &comparator{
		name:   "i;ascii-numeric",
		runeEq: func(a, b rune) bool { return a == b },
		fold:   func(s string) string { return s },
		order:  numericOrder,
	}
)

func comparatorByName(name string) *comparator {
	switch name {
	case "i;octet":
		return cmpOctet
	case "i;ascii-casemap":
		return cmpASCIICase
	case "i;unicode-casemap":
		return cmpUnicodeCase
	case "i;ascii-numeric":
		return cmpNumeric
	}
	return nil
}

// is reports whether a equals b under the comparator.
func (c *comparator) is(a, b string) bool {
	if c == cmpNumeric {
		return numericOrder(a, b) == 0
	}
	if c == cmpOctet {
		return a == b
	}
	if c == cmpASCIICase {
		return len(a) == len(b) && asciiLower(a) == asciiLower(b)
	}
	return c.fold(a) == c.fold(b)
}

func (c *comparator) contains(hay, needle string) bool {
	if c == cmpOctet {
		return strings.Contains(hay, needle)
	}
	return strings.Contains(c.fold(hay), c.fold(needle))
}

func asciiLowerRune(r rune) rune {
	if r >= 'A' && r <= 'Z' {
		return r + 'a' - 'A'
	}
	return r
}

func asciiLower(s string) string {
	for i := 0; i < len(s); i++ {
		if c := s[i]; c >= 'A' && c <= 'Z' {
			b := []byte(s)
			for j := i; j < len(b); j++ {
				if b[j] >= 'A' && b[j] <= 'Z' {
					b[j] += 'a' - 'A'
				}
			}
			return string(b)
		}
	}
	return s
}

// unicodeFoldRune maps a rune to the smallest rune of its case-folding orbit.
func unicodeFoldRune(r rune) rune {
	min := r
	for f := unicode.SimpleFold(r); f != r; f = unicode.SimpleFold(f) {
		if f < min {
			min = f
		}
	}
	return min
}

// decompose is the full (compatibility) decomposition RFC 5051 asks for:
// NFKD, so composed and decomposed forms, and ligatures such as "ﬁ"
// against "fi", compare equal.
func decompose(s string) string {
	for i := 0; i < len(s); i++ {
		if s[i] >= utf8.RuneSelf {
			return norm.NFKD.String(s)
		}
	}
	return s // ASCII is its own decomposition
}

// unicodeFold is the canonical form of i;unicode-casemap (RFC 5051 §2):
// the string decomposed (NFKD) and each character case-mapped, the
// mapping applied after the decomposition so that the characters a
// decomposition yields are mapped too ("ﬁ" -> "fi" -> "FI").
func unicodeFold(s string) string {
	s = decompose(s)
	var b strings.Builder
	b.Grow(len(s))
	for _, r := range s {
		if r == utf8.RuneError {
			b.WriteRune(r)
			continue
		}
		b.WriteRune(unicodeFoldRune(r))
	}
	return b.String()
}

// numericOrder implements i;ascii-numeric (RFC 4790 §9.1): the leading
// digits are the value; a string not starting with a digit is positive
// infinity, equal to every other such string.
func numericOrder(a, b string) int {
	da, db := leadingDigits(a), leadingDigits(b)
	switch {
	case da == "" && db == "":
		return 0
	case da == "":
		return 1
	case db == "":
		return -1
	}
	da = strings.TrimLeft(da, "0")
	db = strings.TrimLeft(db, "0")
	if len(da) != len(db) {
		if len(da) < len(db) {
			return -1
		}
		return 1
	}
	return strings.Compare(da, db)
}

func leadingDigits(s string) string {
	i := 0
	for i < len(s) && s[i] >= '0' && s[i] <= '9' {
		i++
	}
	return s[:i]
}
