package main

import (
	"flag"
	"fmt"
	"sort"
	"strings"
)

// applyEnv sets every flag not given on the command line from the
// environment variable VACATIOND_<NAME> (upper case, '-' as '_'), so
// containers can be configured without arguments. A repeatable flag (-o,
// --sieve-before, ...) also takes VACATIOND_<NAME>_<ANYTHING>, in the
// order of those names: VACATIOND_O_1=..., VACATIOND_O_2=....
// It returns, for each flag it set, the variables it came from.
func applyEnv(fs *flag.FlagSet, environ []string) (map[string]string, error) {
	env := map[string]string{}
	var names []string
	for _, kv := range environ {
		if k, v, ok := strings.Cut(kv, "="); ok && strings.HasPrefix(k, "VACATIOND_") {
			env[k] = v
			names = append(names, k)
		}
	}
	sort.Strings(names)
	given := map[string]bool{}
	fs.Visit(func(f *flag.Flag) { given[f.Name] = true })
	var err error
	from := map[string]string{}
	fs.VisitAll(func(f *flag.Flag) {
		if given[f.Name] || err != nil {
			return
		}
		name := envName(f.Name)
		vars := []string{}
		if _, ok := env[name]; ok {
			vars = append(vars, name)
		}
		if _, ok := f.Value.(*listFlag); ok {
			for _, n := range names {
				if strings.HasPrefix(n, name+"_") {
					vars = append(vars, n)
				}
			}
		}
		for _, n := range vars {
			if serr := fs.Set(f.Name, env[n]); serr != nil {
				err = fmt.Errorf("environment %s: %w", n, serr)
				return
			}
		}
		if len(vars) > 0 {
			from[f.Name] = strings.Join(vars, ",")
		}
	})
	return from, err
}

// unknownEnv lists the VACATIOND_* variables of environ that applyEnv
// reads for no flag (a typo such as VACATIOND_RELAY_WORKER), in order.
func unknownEnv(fs *flag.FlagSet, environ []string) []string {
	known, lists := map[string]bool{}, []string{}
	fs.VisitAll(func(f *flag.Flag) {
		known[envName(f.Name)] = true
		if _, ok := f.Value.(*listFlag); ok {
			lists = append(lists, envName(f.Name)+"_")
		}
	})
	var out []string
	for _, kv := range environ {
		k, _, _ := strings.Cut(kv, "=")
		if !strings.HasPrefix(k, "VACATIOND_") || known[k] {
			continue
		}
		listed := false
		for _, p := range lists {
			listed = listed || strings.HasPrefix(k, p)
		}
		if !listed {
			out = append(out, k)
		}
	}
	sort.Strings(out)
	return out
}

// checkedString is a string flag validated when it is set, so a bad value
// is reported naming the flag (or the environment variable) it came from.
type checkedString struct {
	v     *string
	check func(string) error
}

// checked registers a validated string flag with a default value.
func checked(fs *flag.FlagSet, p *string, name, def, usage string, check func(string) error) {
	*p = def
	fs.Var(checkedString{p, check}, name, usage)
}

// parses makes parse the check of a [checked] flag: a value is valid when
// parse accepts it.
func parses[T any](parse func(string) (T, error)) func(string) error {
	return func(v string) error {
		_, err := parse(v)
		return err
	}
}

func (c checkedString) String() string {
	if c.v == nil {
		return ""
	}
	return *c.v
}

func (c checkedString) Set(s string) error {
	if err := c.check(s); err != nil {
		return err
	}
	*c.v = s
	return nil
}
