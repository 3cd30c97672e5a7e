package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"sort"
	"strconv"
	"strings"

	"github.com/BurntSushi/toml"
)

// The serve flags are the one definition of vacationd's configuration:
// every setting is a flag registered by serveOptions.flags, and the
// config file (its keys are the flag names), the environment
// (VACATIOND_<NAME>), `vacationd config` and the man page are all derived
// from that flag set. A new setting is a new flag, nothing else.
//
// Precedence, highest first: command line, environment, config file,
// the flag's default.

// source says where a setting's effective value came from.
type source string

const sourceDefault source = "default"

// config is a parsed serve configuration: the options, the flag set that
// defines them, and where each value came from.
type config struct {
	opts    *serveOptions
	fs      *flag.FlagSet
	sources map[string]source // flag name -> origin; missing means default
	// warnings name what was read but not used, such as a VACATIOND_*
	// variable that names no setting: serve logs them at start.
	warnings []string
}

// source returns where the named setting came from.
func (c *config) source(name string) source {
	if s, ok := c.sources[name]; ok {
		return s
	}
	return sourceDefault
}

// newServeFlagSet returns the serve flag set bound to fresh options.
func newServeFlagSet(name string, out io.Writer) (*serveOptions, *flag.FlagSet) {
	o := &serveOptions{}
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	fs.SetOutput(out)
	o.flags(fs)
	return o, fs
}

// loadConfig parses args, then the environment, then the config file
// named by --config (or VACATIOND_CONFIG), each only for settings not set
// by an earlier one. It is called at start and again on every reload, so
// it has no effect beyond the returned config.
func loadConfig(args, environ []string, out io.Writer) (*config, error) {
	o, fs := newServeFlagSet("serve", out)
	if err := fs.Parse(args); err != nil {
		return nil, parseError{err}
	}
	if fs.NArg() > 0 {
		return nil, fmt.Errorf("unexpected argument %q", fs.Arg(0))
	}
	c := &config{opts: o, fs: fs, sources: map[string]source{}}
	fs.Visit(func(f *flag.Flag) { c.sources[f.Name] = "command line" })
	envSrc, err := applyEnv(fs, environ)
	if err != nil {
		return nil, err
	}
	for name, v := range envSrc {
		c.sources[name] = source("environment " + v)
	}
	for _, name := range unknownEnv(fs, environ) {
		c.warnings = append(c.warnings, "environment "+name+": no such setting, ignored")
	}
	if o.config != "" {
		set, err := applyConfigFile(fs, o.config, c.sources)
		if err != nil {
			return nil, err
		}
		for _, name := range set {
			c.sources[name] = source(o.config)
		}
	}
	if err := applyMailu(c, environ); err != nil {
		return nil, err
	}
	return c, nil
}

// applyConfigFile sets every flag not already in set from the TOML file at
// path, whose top-level keys are flag names. A repeatable flag takes an
// array. It returns the names it set. Unknown keys, tables and values
// a flag refuses are errors naming the file and the key.
func applyConfigFile(fs *flag.FlagSet, path string, set map[string]source) ([]string, error) {
	var raw map[string]any
	md, err := toml.DecodeFile(path, &raw)
	if err != nil {
		var perr toml.ParseError
		if errors.As(err, &perr) {
			return nil, fmt.Errorf("config %s:%d: %s", path, perr.Position.Line, perr.Message)
		}
		return nil, fmt.Errorf("config: %w", err)
	}
	var names []string
	keys := md.Keys()
	for _, k := range keys {
		if len(k) != 1 {
			continue // inside a table; reported with the table below
		}
		name := k[0]
		where := fmt.Sprintf("config %s: %s", path, name)
		f := fs.Lookup(name)
		if f == nil || name == "config" {
			return nil, fmt.Errorf("%s: unknown setting%s", where, suggest(fs, name))
		}
		if _, done := set[name]; done {
			continue
		}
		vals, err := tomlValues(raw[name])
		if err != nil {
			return nil, fmt.Errorf("%s: %w", where, err)
		}
		if _, list := f.Value.(*listFlag); !list && len(vals) != 1 {
			return nil, fmt.Errorf("%s: want one value, not an array", where)
		}
		for _, v := range vals {
			if err := fs.Set(name, v); err != nil {
				return nil, fmt.Errorf("%s = %q: %w", where, v, err)
			}
		}
		names = append(names, name)
	}
	return names, nil
}

// tomlValues turns a TOML value into the strings a flag is set from.
func tomlValues(v any) ([]string, error) {
	switch v := v.(type) {
	case string:
		return []string{v}, nil
	case int64:
		return []string{strconv.FormatInt(v, 10)}, nil
	case float64:
		return []string{strconv.FormatFloat(v, 'g', -1, 64)}, nil
	case bool:
		return []string{strconv.FormatBool(v)}, nil
	case []any:
		out := make([]string, 0, len(v))
		for _, e := range v {
			s, err := tomlValues(e)
			if err != nil || len(s) != 1 {
				return nil, errors.New("want an array of plain values")
			}
			out = append(out, s[0])
		}
		return out, nil
	case map[string]any:
		return nil, errors.New("want a value, not a table (keys are the serve flags, at top level)")
	default:
		return nil, fmt.Errorf("unsupported value %v (%T)", v, v)
	}
}

// suggest names a flag close to a misspelt one, or returns "".
func suggest(fs *flag.FlagSet, name string) string {
	norm := strings.NewReplacer("_", "-", ".", "-").Replace(strings.ToLower(name))
	if f := fs.Lookup(norm); f != nil && norm != name {
		return fmt.Sprintf(" (did you mean %q?)", norm)
	}
	return ""
}

// settingNames returns the flag names of fs in order.
func settingNames(fs *flag.FlagSet) []string {
	var names []string
	fs.VisitAll(func(f *flag.Flag) { names = append(names, f.Name) })
	sort.Strings(names)
	return names
}

// tomlValue renders a flag's current value as TOML, so `vacationd config`
// output is itself a valid config file.
func tomlValue(f *flag.Flag) string {
	var v any = f.Value.String()
	switch fv := f.Value.(type) {
	case *listFlag:
		v = []string(*fv)
	case flag.Getter:
		switch g := fv.Get().(type) {
		case bool, int, int64, uint, uint64, float64:
			v = g
		}
	}
	var b strings.Builder
	if err := toml.NewEncoder(&b).Encode(map[string]any{"v": v}); err != nil {
		return strconv.Quote(f.Value.String())
	}
	_, val, _ := strings.Cut(strings.TrimSpace(b.String()), " = ")
	return val
}

// envName is the environment variable of a flag.
func envName(flagName string) string {
	return "VACATIOND_" + strings.ToUpper(strings.ReplaceAll(flagName, "-", "_"))
}

// parseError is a command-line error the flag package has already
// printed with the usage.
type parseError struct{ error }

func (e parseError) Unwrap() error { return e.error }
