package sieve

import (
	"strconv"
	"strings"
	"unicode/utf8"
)

// Variable limits (RFC 5229, Pigeonhole defaults; settings can lower them).
const (
	defaultMaxVarSize  = 4096
	defaultMaxScope    = 255
	maxMatchIndex      = 32 // SIEVE_MAX_MATCH_VALUES
	maxVariableNameLen = 64
)

// parseVarRefs splits s into literal parts and variable references. It
// returns nil when s has no references.
func parseVarRefs(s string) []strPart {
	if !strings.Contains(s, "${") {
		return nil
	}
	var parts []strPart
	lit := 0
	for i := 0; i+1 < len(s); i++ {
		if s[i] != '$' || s[i+1] != '{' {
			continue
		}
		j := i + 2
		end, name, match := scanVarName(s, j)
		if end < 0 || end >= len(s) || s[end] != '}' {
			continue
		}
		if lit < i {
			parts = append(parts, strPart{lit: s[lit:i], match: -1})
		}
		if match >= 0 {
			parts = append(parts, strPart{match: match})
		} else {
			parts = append(parts, strPart{name: name, match: -1})
		}
		i = end
		lit = end + 1
	}
	if parts == nil {
		return nil
	}
	if lit < len(s) {
		parts = append(parts, strPart{lit: s[lit:], match: -1})
	}
	return parts
}

// scanVarName reads a variable name at s[j:]: digits (a match variable) or
// identifier ("." identifier)*. It returns the index after the name, the
// lower-cased name, and the match index (-1 for a named variable).
func scanVarName(s string, j int) (int, string, int) {
	if j < len(s) && isDigit(s[j]) {
		k := j
		for k < len(s) && isDigit(s[k]) {
			k++
		}
		n, err := strconv.Atoi(strings.TrimLeft(s[j:k], "0"))
		if err != nil {
			if strings.Trim(s[j:k], "0") == "" {
				n = 0
			} else {
				n = 1 << 30
			}
		}
		return k, "", n
	}
	k := j
	for {
		if k >= len(s) || !(isAlpha(s[k]) || s[k] == '_') {
			return -1, "", -1
		}
		for k < len(s) && (isAlpha(s[k]) || isDigit(s[k]) || s[k] == '_') {
			k++
		}
		if k < len(s) && s[k] == '.' {
			k++
			continue
		}
		break
	}
	return k, strings.ToLower(s[j:k]), -1
}

// validVarName reports whether s is a valid variable name for set.
func validVarName(s string) bool {
	end, _, match := scanVarName(s, 0)
	return end == len(s) && match < 0 && !strings.Contains(s, ".")
}

// expand substitutes variable references in s.
func (r *run) expand(s *str) string {
	if s.parts == nil {
		return s.lit
	}
	var b strings.Builder
	for _, p := range s.parts {
		switch {
		case p.match >= 0:
			if p.match < len(r.matchVals) {
				b.WriteString(r.matchVals[p.match])
			}
		case p.name != "":
			b.WriteString(r.getVar(p.name))
		default:
			b.WriteString(p.lit)
		}
	}
	return b.String()
}

// maxVarSize is the largest value a variable may hold.
func (r *run) maxVarSize() int {
	// sieve_variables_max_value_size is the newer name (Pigeonhole 2.4).
	s := r.settings()
	return int(s.Int("sieve_variables_max_value_size", s.Int("sieve_variables_max_variable_size", defaultMaxVarSize)))
}

func (r *run) getVar(name string) string {
	if r.script.globals[name] || strings.HasPrefix(name, "global.") {
		return r.globals[strings.TrimPrefix(name, "global.")]
	}
	if r.env.Variables != nil && strings.IndexByte(name, '.') > 0 {
		if v, ok := r.env.Variables(name); ok {
			return v
		}
	}
	if env, ok := strings.CutPrefix(name, "env."); ok {
		return r.envVariable(env)
	}
	return r.vars[name]
}

func (r *run) setVar(name, val string) {
	if max := r.maxVarSize(); len(val) > max {
		val = truncateUTF8(val, max)
	}
	name = strings.ToLower(name)
	if r.script.globals[name] || strings.HasPrefix(name, "global.") {
		r.globals[strings.TrimPrefix(name, "global.")] = val
		return
	}
	r.vars[name] = val
}

// setMatch records the match variables of a successful match; only
// scripts that require variables see them.
func (r *run) setMatch(vals []string) {
	if len(vals) > maxMatchIndex+1 {
		vals = vals[:maxMatchIndex+1]
	}
	r.matchVals = append(r.matchVals[:0], vals...)
}

// truncateUTF8 cuts s to at most n bytes without splitting a character.
func truncateUTF8(s string, n int) string {
	if len(s) <= n {
		return s
	}
	for n > 0 && !utf8.RuneStart(s[n]) {
		n--
	}
	return s[:n]
}

// decodeEncodedCharacters processes ${hex:...} and ${unicode:...}
// (RFC 5228 §2.4.2.4) exactly as Pigeonhole's scanner does, quirks
// included: a malformed substitution is left as it is, and an invalid
// code point in a well-formed one is an error.
func (c *checker) decodeEncodedCharacters(p Position, s string) string {
	if !strings.Contains(s, "${") {
		return s
	}
	const (
		stNone = iota
		stOpen
		stType
		stClose
	)
	var out, tmp strings.Builder
	changed := false
	strStart, subStart := 0, 0
	state := stNone
	var errHex uint64
	badHex := false
	for i := 0; i < len(s); {
		switch state {
		case stNone:
			if s[i] == '$' {
				subStart = i
				state = stOpen
			}
			i++
		case stOpen:
			if s[i] == '{' {
				state = stType
				i++
			} else {
				state = stNone
			}
		case stType:
			mark := i
			for i < len(s) && isAlpha(s[i]) {
				i++
			}
			if i >= len(s) || s[i] != ':' {
				state = stNone
				break
			}
			state = stClose
			tmp.Reset()
			name := strings.ToLower(s[mark:i])
			i++
			switch {
			case strings.HasPrefix("hex", name):
				if !decodeHexChars(s, &i, &tmp) {
					state = stNone
				}
			case strings.HasPrefix("unicode", name):
				if !decodeUnicodeChars(s, &i, &tmp, &errHex, &badHex) {
					state = stNone
				}
			default:
				state = stNone
			}
		case stClose:
			if s[i] == '}' {
				if badHex {
					c.errorf(p, "invalid unicode character 0x%08x in encoded character substitution", errHex)
					return s
				}
				out.WriteString(s[strStart:subStart])
				out.WriteString(tmp.String())
				changed = true
				strStart = i + 1
				subStart = strStart
				i++
			}
			state = stNone
		}
	}
	if !changed {
		return s
	}
	out.WriteString(s[strStart:])
	return out.String()
}

// skipEncodedSpace skips white space between encoded values; a CR must be
// followed by LF.
func skipEncodedSpace(s string, i *int) bool {
	for *i < len(s) {
		switch s[*i] {
		case '\r':
			*i++
			if *i >= len(s) || s[*i] != '\n' {
				return false
			}
		case ' ', '\n', '\t':
			*i++
		default:
			return true
		}
	}
	return true
}

// parseEncodedHex reads a run of hex digits (at most max when max > 0);
// an overflowing value becomes 0xffffffff.
func parseEncodedHex(s string, i *int, max int) (uint64, bool) {
	j, n := *i, 0
	for j < len(s) && (max == 0 || n < max) && isHexRune(rune(s[j])) {
		j++
		n++
	}
	if n == 0 || (n == max && j < len(s) && isHexRune(rune(s[j]))) {
		return 0, false
	}
	v, err := strconv.ParseUint(s[*i:j], 16, 32)
	if err != nil {
		v = 0xffffffff
	}
	*i = j
	return v, true
}

func decodeHexChars(s string, i *int, out *strings.Builder) bool {
	values := 0
	for *i < len(s) {
		if !skipEncodedSpace(s, i) {
			return false
		}
		v, ok := parseEncodedHex(s, i, 2)
		if !ok {
			break
		}
		out.WriteByte(byte(v))
		values++
	}
	return values > 0
}

func decodeUnicodeChars(s string, i *int, out *strings.Builder, errHex *uint64, bad *bool) bool {
	values := 0
	for *i < len(s) {
		if !skipEncodedSpace(s, i) {
			return false
		}
		v, ok := parseEncodedHex(s, i, 0)
		if !ok {
			break
		}
		if v <= 0x10ffff && (v < 0xd800 || v > 0xdfff) {
			out.WriteRune(rune(v))
		} else if !*bad {
			*errHex, *bad = v, true
		}
		values++
	}
	return values > 0
}

func isHexRune(r rune) bool {
	return r >= '0' && r <= '9' || r >= 'a' && r <= 'f' || r >= 'A' && r <= 'F'
}
