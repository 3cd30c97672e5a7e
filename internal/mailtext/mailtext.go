// Package mailtext holds the small text rules for writing header fields
// that the sieve, vacation and notify packages share: how a field name is
// capitalised and how a value is cut to a number of code points.
package mailtext

import (
	"strings"
	"unicode/utf8"
)

// FieldName writes a header field name as Pigeonhole adds it: lower case
// but for the first letter and each letter after '-'.
func FieldName(name string) string {
	b := []byte(strings.ToLower(name))
	up := true
	for i, c := range b {
		if up && 'a' <= c && c <= 'z' {
			b[i] = c - 'a' + 'A'
		}
		up = c == '-'
	}
	return string(b)
}

// Truncate cuts s to max code points, the last being "…", when it is
// longer.
func Truncate(s string, max int) string {
	if utf8.RuneCountInString(s) <= max {
		return s
	}
	n := 0
	for i := range s {
		if n == max-1 {
			return s[:i] + "…"
		}
		n++
	}
	return s
}
