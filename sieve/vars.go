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
	maxMatchIndex      = 9
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
	return int(r.settings().Int("sieve_variables_max_variable_size", defaultMaxVarSize))
}

func (r *run) getVar(name string) string {
	if r.script.globals[name] || strings.HasPrefix(name, "global.") {
		return r.globals[strings.TrimPrefix(name, "global.")]
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
// (RFC 5228 §2.4.2.4).
func (c *checker) decodeEncodedCharacters(p Position, s string) string {
	if !strings.Contains(s, "${") {
		return s
	}
	var b strings.Builder
	i := 0
	for i < len(s) {
		j := strings.Index(s[i:], "${")
		if j < 0 {
			b.WriteString(s[i:])
			break
		}
		b.WriteString(s[i : i+j])
		i += j
		out, n, ok := c.encodedChar(p, s[i:])
		if !ok {
			b.WriteString("${")
			i += 2
			continue
		}
		b.WriteString(out)
		i += n
	}
	return b.String()
}

// encodedChar decodes one ${hex:..} or ${unicode:..} at the start of s.
func (c *checker) encodedChar(p Position, s string) (string, int, bool) {
	end := strings.IndexByte(s, '}')
	if end < 0 {
		return "", 0, false
	}
	body := s[2:end]
	colon := strings.IndexByte(body, ':')
	if colon < 0 {
		return "", 0, false
	}
	kind := strings.ToLower(strings.TrimSpace(body[:colon]))
	if kind != "hex" && kind != "unicode" {
		return "", 0, false
	}
	if strings.TrimSpace(body[:colon]) != body[:colon] {
		return "", 0, false
	}
	fields := strings.Fields(body[colon+1:])
	var b strings.Builder
	for _, f := range fields {
		for _, ch := range f {
			if !isHexRune(ch) {
				return "", 0, false
			}
		}
		v, err := strconv.ParseUint(f, 16, 32)
		if err != nil {
			return "", 0, false
		}
		if kind == "hex" {
			if v > 0xff {
				return "", 0, false
			}
			b.WriteByte(byte(v))
			continue
		}
		if v > 0x10ffff || (v >= 0xd800 && v <= 0xdfff) {
			c.errorf(p, "invalid unicode character 0x%08X in encoded character substitution", v)
			return "", 0, false
		}
		b.WriteRune(rune(v))
	}
	// Whitespace other than SP/TAB/CRLF is not allowed between values.
	return b.String(), end + 1, true
}

func isHexRune(r rune) bool {
	return r >= '0' && r <= '9' || r >= 'a' && r <= 'f' || r >= 'A' && r <= 'F'
}
