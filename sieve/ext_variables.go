package sieve

import (
	"regexp"
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"
)

// variables (RFC 5229): set with modifiers and the string test.
func variablesExtension() *extension {
	return &extension{name: "variables", specs: []*spec{
		{
			name: "set",
			tags: []tagSpec{
				{name: "lower", group: "case"}, {name: "upper", group: "case"},
				{name: "lowerfirst", group: "casefirst"}, {name: "upperfirst", group: "casefirst"},
				{name: "quotewildcard", group: "quote"}, {name: "quoteregex", group: "quote", ext: "regex"},
				{name: "encodeurl", group: "quote", ext: "enotify"},
				{name: "length", group: "length"},
			},
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

func checkSet(c *checker, n *node) {
	name := n.args[0].strs[0]
	if checkGlobalNamespace(c, name) {
		return
	}
	if name.parts != nil || !validVarName(name.lit) {
		c.errorf(name.pos, "invalid variable name '%s'", strings.ToValidUTF8(name.lit, "?"))
		return
	}
	if len(name.lit) > maxVariableNameLen {
		c.errorf(name.pos, "variable name '%s' is too long", name.lit)
		return
	}
	c.declareVar(name.pos, strings.ToLower(name.lit))
}

// declareVar counts distinct variables against the scope limit.
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
		c.errorf(p, "declaration of variable '%s' exceeds the limit (max variables: %d)", name, max)
		return
	}
	vars[name] = true
}

func execSet(r *run, n *node) error {
	val := r.string(n.args[1])
	// Modifiers apply highest precedence first (RFC 5229 §4.1).
	for _, m := range []string{"lower", "upper", "lowerfirst", "upperfirst", "quotewildcard", "quoteregex", "encodeurl", "length"} {
		if !n.has(m) {
			continue
		}
		switch m {
		case "lower":
			val = strings.ToLower(val)
		case "upper":
			val = strings.ToUpper(val)
		case "lowerfirst":
			val = mapFirst(val, unicode.ToLower)
		case "upperfirst":
			val = mapFirst(val, unicode.ToUpper)
		case "quotewildcard":
			val = quoteWildcard(val)
		case "quoteregex":
			val = regexp.QuoteMeta(val)
		case "encodeurl":
			val = encodeURL(val)
		case "length":
			val = strconv.Itoa(utf8.RuneCountInString(val))
		}
	}
	r.setVar(n.args[0].strs[0].lit, val)
	return nil
}

func mapFirst(s string, f func(rune) rune) string {
	r, size := utf8.DecodeRuneInString(s)
	if size == 0 {
		return s
	}
	return string(f(r)) + s[size:]
}

func quoteWildcard(s string) string {
	var b strings.Builder
	for _, r := range s {
		if r == '*' || r == '?' || r == '\\' {
			b.WriteByte('\\')
		}
		b.WriteRune(r)
	}
	return b.String()
}

// encodeURL percent-encodes everything but RFC 3986 unreserved characters.
func encodeURL(s string) string {
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		c := s[i]
		if isAlpha(c) || isDigit(c) || strings.IndexByte("-._~", c) >= 0 {
			b.WriteByte(c)
			continue
		}
		b.WriteString("%" + strings.ToUpper(strconv.FormatInt(int64(c)|0x100, 16)[1:]))
	}
	return b.String()
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
