package sieve

import (
	"regexp"
	"slices"
	"strconv"
	"strings"
	"unicode/utf8"
)

// variables (RFC 5229): set with modifiers and the string test.
func variablesExtension() *extension {
	return &extension{name: "variables", specs: []*spec{
		{
			name: "set",
			tags: modifierTags(),
			args: []argType{tString, tString}, argNames: []string{"name", "value"},
			check: checkSet, exec: execSet,
		},
		{
			name: "string", test: true, match: true,
			args: []argType{tStringList, tStringList}, argNames: []string{"source", "key list"},
			eval: evalString,
		},
	}}
}

// modifierTags are the modifiers of set (and of extracttext).
func modifierTags() []tagSpec {
	return []tagSpec{
		{name: "lower", group: "case", dupErr: modifierConflict}, {name: "upper", group: "case", dupErr: modifierConflict},
		{name: "lowerfirst", group: "casefirst", dupErr: modifierConflict}, {name: "upperfirst", group: "casefirst", dupErr: modifierConflict},
		{name: "quotewildcard", group: "quote", dupErr: modifierConflict}, {name: "quoteregex", group: "quote", ext: "regex", dupErr: modifierConflict},
		{name: "encodeurl", group: "quote", ext: "enotify", dupErr: modifierConflict},
		{name: "length", group: "length", dupErr: modifierConflict},
	}
}

// modifierConflict is Pigeonhole's error for two set modifiers of equal
// precedence (groups here).
const modifierConflict = "modifiers :%s and :%s specified for the set command conflict having equal precedence"

func checkSet(c *checker, n *node) {
	name := n.args[0].strs[0]
	if name.parts == nil && checkGlobalNamespace(c, name) {
		return
	}
	c.checkVarName(name, true)
}

// varNameElem is one dot-separated element of a variable name: an
// identifier or a number.
type varNameElem struct {
	ident string
	num   int // -1 for an identifier
}

// Limits of variable names (Pigeonhole's ext-variables-limits.h).
const (
	maxVarNameLen     = 64
	maxNamespaceElems = 10
)

// parseVarName splits a variable name into its elements as Pigeonhole
// does; ok is false when s is not a valid name.
func parseVarName(s string) (elems []varNameElem, ok bool) {
	i := 0
	for i < len(s) {
		if len(elems) >= maxNamespaceElems {
			return nil, false
		}
		switch c := s[i]; {
		case c == '_' || isAlpha(c):
			start := i
			i++
			for i < len(s) && (s[i] == '_' || isAlpha(s[i]) || isDigit(s[i])) {
				if i-start >= maxVarNameLen {
					return nil, false
				}
				i++
			}
			elems = append(elems, varNameElem{ident: s[start:i], num: -1})
		case isDigit(c):
			start := i
			for i < len(s) && isDigit(s[i]) {
				i++
			}
			n, err := strconv.Atoi(s[start:i])
			if err != nil {
				return nil, false
			}
			elems = append(elems, varNameElem{num: n})
			if len(elems) == 1 {
				return elems, i == len(s)
			}
		default:
			return nil, false
		}
		if i < len(s) && s[i] == '.' {
			i++
			if i >= len(s) {
				return nil, false
			}
		} else {
			break
		}
	}
	return elems, i == len(s) && len(elems) > 0
}

// checkVarName validates the name argument of set (assign) or of a test
// that names variables, and declares it.
func (c *checker) checkVarName(name *str, assign bool) {
	if name.parts != nil {
		c.errorf(name.pos, "invalid variable name '%s'", sanitize(name.lit, 80))
		return
	}
	elems, ok := parseVarName(name.lit)
	switch {
	case !ok:
		c.errorf(name.pos, "invalid variable name '%s'", sanitize(name.lit, 80))
	case len(elems) > 1:
		c.errorf(name.pos, "referring to variable in unknown namespace '%s'", elems[0].ident)
	case elems[0].num >= 0 && assign:
		c.errorf(name.pos, "cannot assign to match variable")
	case elems[0].num > maxMatchIndex:
		c.errorf(name.pos, "match value index %d out of range (max: %d)", elems[0].num, maxMatchIndex)
	case elems[0].num < 0:
		c.declareVar(name.pos, strings.ToLower(name.lit))
	}
}

// checkVarRefs reports the first bad variable reference in a string: a
// match value beyond the limit or a name in an unknown namespace.
func (c *checker) checkVarRefs(s *str) {
	for _, p := range s.parts {
		if p.match > maxMatchIndex {
			c.errorf(s.pos, "match value index %d out of range (max: %d)", p.match, maxMatchIndex)
			return
		}
		if i := strings.IndexByte(p.name, '.'); i > 0 {
			ns := p.name[:i]
			if ns == "global" && c.requires("include") || ns == "env" && c.requires("vnd.dovecot.environment") ||
				c.namespaceKnown(ns) {
				continue
			}
			c.errorf(s.pos, "referring to variable in unknown namespace '%s'", ns)
			return
		}
	}
}

// namespaceKnown reports whether an extension the script requires declares
// the variable namespace ns.
func (c *checker) namespaceKnown(ns string) bool {
	for name := range c.script.caps {
		if e := c.reg.exts[name]; e != nil && slices.Contains(e.namespaces, ns) {
			return true
		}
	}
	return false
}

// declareVar counts distinct variables against the scope limit; like
// Pigeonhole it reports only the first variable over the limit.
func (c *checker) declareVar(p Position, name string) {
	vars, _ := c.state["variables"].(map[string]bool)
	if vars == nil {
		vars = map[string]bool{}
		c.state["variables"] = vars
	}
	if vars[name] || c.script.globals[name] {
		return
	}
	max := int(c.opts.Settings.Int("sieve_variables_max_scope_size", defaultMaxScope))
	if len(vars) >= max {
		if c.state["variables-over"] == nil {
			c.state["variables-over"] = true
			c.errorf(p, "(implicit) declaration of new variable '%s' exceeds the limit (max variables: %d)", name, max)
		}
		return
	}
	vars[name] = true
}

func execSet(r *run, n *node) error {
	r.setVar(n.args[0].strs[0].lit, r.modify(n, r.string(n.args[1])))
	return nil
}

// modify applies the modifier tags of n to val.
func (r *run) modify(n *node, val string) string {
	// Modifiers apply highest precedence first (RFC 5229 §4.1).
	for _, m := range []string{"lower", "upper", "lowerfirst", "upperfirst", "quotewildcard", "quoteregex", "encodeurl", "length"} {
		if !n.has(m) {
			continue
		}
		switch m {
		// Like Pigeonhole, the case modifiers change ASCII letters only.
		case "lower":
			val = asciiLower(val)
		case "upper":
			val = asciiUpper(val)
		case "lowerfirst":
			val = mapFirstASCII(val, asciiLower)
		case "upperfirst":
			val = mapFirstASCII(val, asciiUpper)
		case "quotewildcard":
			val = quoteWildcard(val, r.maxVarSize())
		case "quoteregex":
			val = regexp.QuoteMeta(val)
		case "encodeurl":
			val = encodeURL(val, r.maxVarSize())
		case "length":
			val = strconv.Itoa(utf8.RuneCountInString(val))
		}
	}
	return val
}

// mapFirstASCII applies f to the first byte of s.
func mapFirstASCII(s string, f func(string) string) string {
	if s == "" {
		return s
	}
	return f(s[:1]) + s[1:]
}

// asciiUpper upper-cases ASCII letters only.
func asciiUpper(s string) string {
	b := []byte(s)
	for i, c := range b {
		if c >= 'a' && c <= 'z' {
			b[i] = c - 'a' + 'A'
		}
	}
	return string(b)
}

// quoteWildcard escapes *, ? and \ for :matches; like Pigeonhole it stops
// before an escape pair or a character would pass max bytes.
func quoteWildcard(s string, max int) string {
	var b strings.Builder
	for i := 0; i < len(s); {
		_, n := utf8.DecodeRuneInString(s[i:])
		if c := s[i]; c == '*' || c == '?' || c == '\\' {
			if b.Len()+2 > max {
				break
			}
			b.WriteByte('\\')
		} else if b.Len()+n > max {
			break
		}
		b.WriteString(s[i : i+n])
		i += n
	}
	return b.String()
}

// encodeURL percent-encodes everything but RFC 3986 unreserved characters,
// a UTF-8 character as a whole, stopping (like Pigeonhole) before the
// result would exceed max bytes.
func encodeURL(s string, max int) string {
	var b strings.Builder
	for i := 0; i < len(s); {
		c := s[i]
		if c < 0x80 && (isAlpha(c) || isDigit(c) || strings.IndexByte("-._~", c) >= 0) {
			if b.Len()+1 > max {
				break
			}
			b.WriteByte(c)
			i++
			continue
		}
		n := 1
		if c >= 0x80 {
			_, n = utf8.DecodeRuneInString(s[i:])
			if n == 1 {
				n = utf8Len(c)
			}
			n = min(n, len(s)-i)
		}
		if b.Len()+3*n > max {
			break
		}
		for _, c := range []byte(s[i : i+n]) {
			b.WriteString("%" + strings.ToUpper(strconv.FormatInt(int64(c)|0x100, 16)[1:]))
		}
		i += n
	}
	return b.String()
}

// utf8Len is the length of the UTF-8 sequence that lead byte c starts.
func utf8Len(c byte) int {
	switch {
	case c >= 0xf0:
		return 4
	case c >= 0xe0:
		return 3
	case c >= 0xc0:
		return 2
	}
	return 1
}

func evalString(r *run, n *node) (bool, error) {
	src := r.strings(n.args[0])
	keys := r.strings(n.args[1])
	if n.mt == mtCount {
		var nonEmpty []string
		for _, s := range src {
			if s != "" {
				nonEmpty = append(nonEmpty, s)
			}
		}
		src = nonEmpty
	}
	return r.match(n, src, keys)
}
