package sieve

import "sort"

// CompileReport compiles like [Compile] and, when compilation fails, also
// returns Pigeonhole's closing summary of the failure: "parse failed" or
// "validation failed" (ManageSieve's PUTSCRIPT/CHECKSCRIPT and sievec end
// their error list with it).
func CompileReport(name string, src []byte, opts *Options) (*Script, string, error) {
	s, st, err := compile(name, src, opts)
	if err != nil {
		return nil, st.failure(), err
	}
	return s, "", nil
}

// EnabledCapabilities lists the capabilities a script may require under
// opts, sorted, for a server to announce (ManageSieve's SIEVE
// capability): the comparators every script has (i;octet,
// i;ascii-casemap, i;unicode-casemap) are left out, as Pigeonhole does.
func EnabledCapabilities(opts *Options) []string {
	var o Options
	if opts != nil {
		o = *opts
	}
	reg := o.Registry.registry()
	var out []string
	for name := range enabledSet(reg, &o) {
		if _, known := reg.exts[name]; !known || name == "" {
			continue
		}
		switch name {
		case "comparator-i;octet", "comparator-i;ascii-casemap", "comparator-i;unicode-casemap":
			continue
		}
		out = append(out, name)
	}
	sort.Strings(out)
	return out
}

// WithDefaults returns l with every zero field set to its default (for
// announcing limits, such as ManageSieve's MAXREDIRECTS).
func (l Limits) WithDefaults() Limits { return l.withDefaults() }
