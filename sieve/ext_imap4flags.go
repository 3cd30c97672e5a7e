package sieve

import "strings"

// imap4flags (RFC 5232): setflag, addflag and removeflag on the internal
// flag variable or on a named variable, the hasflag test, and :flags on
// keep and fileinto (declared in core.go and ext_basic.go; the internal
// variable is applied through r.actionFlags).
//
// As in Pigeonhole, a flag list is a string of flags separated by spaces;
// adding skips invalid flags and flags already present (compared without
// regard to case), and removing drops every occurrence.
func imap4flagsExtension() *extension {
	flagCmd := func(name string, op func(cur, flags []string) []string) *spec {
		return &spec{
			name: name, args: []argType{tStringList, tStringList}, optArg: 1,
			argNames: []string{"variable name", "list of flags"},
			check:    checkFlagArgs,
			exec: func(r *run, n *node) error {
				list := r.strings(n.args[len(n.args)-1])
				if len(n.args) == 1 {
					r.flags = op(r.flags, list)
					return nil
				}
				name := n.args[0].strs[0].lit
				cur := splitFlags(r.getVar(strings.ToLower(name)))
				r.setVar(name, strings.Join(op(cur, list), " "))
				return nil
			},
		}
	}
	return &extension{name: "imap4flags", specs: []*spec{
		flagCmd("setflag", func(_, flags []string) []string { return addFlags(nil, flags) }),
		flagCmd("addflag", addFlags),
		flagCmd("removeflag", removeFlags),
		{
			name: "hasflag", test: true, match: true,
			args: []argType{tStringList, tStringList}, optArg: 1,
			argNames: []string{"variable list", "list of flags"},
			check:    checkFlagArgs, eval: evalHasflag,
		},
	}}
}

// checkFlagArgs validates the optional variable argument of the flag
// commands and of hasflag.
func checkFlagArgs(c *checker, n *node) {
	if !n.spec.test {
		warnInvalidFlags(c, n)
	}
	if len(n.args) < 2 {
		return
	}
	vars := n.args[0]
	kind := n.spec.kindName()
	if !n.spec.test && vars.list {
		c.errorf(vars.pos, "if a second argument is specified for the %s %s, the first must be a string (variable name), but a string list was found", n.spec.name, kind)
		return
	}
	if !c.requires("variables") {
		c.errorf(vars.pos, "the %s %s only allows for the specification of a variable name when the variables extension is active", n.spec.name, kind)
		return
	}
	for _, s := range vars.strs {
		if s.parts != nil || !validFlagVarName(s.lit) {
			c.errorf(s.pos, "invalid variable name '%s'", strings.ToValidUTF8(s.lit, "?"))
			continue
		}
		if !n.spec.test && !strings.HasPrefix(strings.ToLower(s.lit), "global.") {
			c.declareVar(s.pos, strings.ToLower(s.lit))
		}
	}
}

// warnInvalidFlags warns, as Pigeonhole does, about the first invalid
// flag of a literal flag list (it will be ignored).
func warnInvalidFlags(c *checker, n *node) {
	list := n.args[len(n.args)-1]
	for _, s := range list.strs {
		if s.parts != nil {
			continue
		}
		for _, f := range splitFlags(s.lit) {
			if !validFlag(f) {
				c.warnf(s.pos, "IMAP flag '%s' specified for the %s command is invalid and will be ignored (only first invalid is reported)", sanitize(f, 64), n.spec.name)
				return
			}
		}
	}
}

// validFlagVarName accepts a variable name, also in the global. namespace
// of the include extension.
func validFlagVarName(s string) bool {
	if validVarName(s) {
		return true
	}
	low := strings.ToLower(s)
	return strings.HasPrefix(low, "global.") && validVarName(s[len("global."):])
}

func evalHasflag(r *run, n *node) (bool, error) {
	var values []string
	if len(n.args) == 2 {
		for _, name := range r.strings(n.args[0]) {
			values = append(values, addFlags(nil, []string{r.getVar(strings.ToLower(name))})...)
		}
	} else {
		values = r.flags
	}
	keys := r.strings(n.args[len(n.args)-1])
	if n.mt == mtIs || n.mt == mtContains {
		var split []string
		for _, k := range keys {
			split = append(split, addFlags(nil, []string{k})...)
		}
		keys = split
	}
	return r.match(n, values, keys)
}

// splitFlags splits a flag string on spaces.
func splitFlags(s string) []string {
	var out []string
	for _, f := range strings.Split(s, " ") {
		if f != "" {
			out = append(out, f)
		}
	}
	return out
}

func hasFlag(list []string, f string) bool {
	for _, g := range list {
		if strings.EqualFold(g, f) {
			return true
		}
	}
	return false
}

// addFlags appends the valid flags of every string in flags that cur does
// not hold yet. It returns a new slice.
func addFlags(cur, flags []string) []string {
	out := append([]string(nil), cur...)
	for _, s := range flags {
		for _, f := range splitFlags(s) {
			if validFlag(f) && !hasFlag(out, f) {
				out = append(out, f)
			}
		}
	}
	return out
}

// removeFlags drops every occurrence of the flags named in flags.
func removeFlags(cur, flags []string) []string {
	var drop []string
	for _, s := range flags {
		drop = append(drop, splitFlags(s)...)
	}
	var out []string
	for _, f := range cur {
		if !hasFlag(drop, f) {
			out = append(out, f)
		}
	}
	return out
}

// validFlag reports whether f is an IMAP system flag Sieve may set or a
// keyword (an IMAP atom).
func validFlag(f string) bool {
	if f == "" {
		return false
	}
	if f[0] == '\\' {
		switch strings.ToLower(f) {
		case `\answered`, `\flagged`, `\deleted`, `\seen`, `\draft`:
			return true
		}
		return false
	}
	for i := 0; i < len(f); i++ {
		switch c := f[i]; {
		case c < 0x20, c == 0x7f, c == ' ':
			return false
		case strings.IndexByte(`(){%*"\]`, c) >= 0:
			return false
		}
	}
	return true
}

// lastFlags is how the flags of a repeated keep or fileinto to one mailbox
// combine: the last flag list wins (RFC 5232 §5). An action without a flag
// list (nil: imap4flags not in use) leaves the earlier one.
func lastFlags(old, flags []string) []string {
	if flags == nil {
		return old
	}
	return flags
}
