package main

import (
	"flag"
	"fmt"
	"strings"
)

// applyEnv sets every flag not given on the command line from the
// environment variable VACATIOND_<NAME> (upper case, '-' as '_'), so
// containers can be configured without arguments.
func applyEnv(fs *flag.FlagSet, lookup func(string) (string, bool)) error {
	given := map[string]bool{}
	fs.Visit(func(f *flag.Flag) { given[f.Name] = true })
	var err error
	fs.VisitAll(func(f *flag.Flag) {
		if given[f.Name] || err != nil {
			return
		}
		name := "VACATIOND_" + strings.ToUpper(strings.ReplaceAll(f.Name, "-", "_"))
		v, ok := lookup(name)
		if !ok {
			return
		}
		if serr := fs.Set(f.Name, v); serr != nil {
			err = fmt.Errorf("environment %s: %w", name, serr)
		}
	})
	return err
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
