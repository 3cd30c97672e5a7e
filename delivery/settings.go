package delivery

import (
	"fmt"
	"strings"

	"github.com/vacationd/vacationd/sieve"
	"github.com/vacationd/vacationd/vacation"
)

// ParseSettings reads Pigeonhole settings given as NAME=VALUE (serve's and
// test's -o, config files): the one settings parser of every command.
// A "plugin/" prefix, as in doveconf's output, is accepted and removed.
// A name that neither the Sieve engine nor the vacation responder knows is
// an error naming it, and so is a value the responder cannot use. %% in a
// value is a %, as Dovecot expands it; any other %-variable is refused (write
// %%{subject} for the subject template's %{subject}).
func ParseSettings(list []string) (sieve.Settings, error) {
	s := sieve.Settings{}
	for _, kv := range list {
		name, value, ok := strings.Cut(kv, "=")
		name = strings.TrimPrefix(strings.TrimSpace(name), "plugin/")
		if !ok || name == "" {
			return nil, fmt.Errorf("setting %q: want NAME=VALUE", kv)
		}
		if !sieve.IsSetting(name) && !vacation.IsSetting(name) {
			return nil, fmt.Errorf("setting %q: unknown setting name", name)
		}
		v, err := expandSettingValue(strings.TrimSpace(value))
		if err != nil {
			return nil, fmt.Errorf("setting %s: %w", name, err)
		}
		if name == "sieve_extensions" || name == "sieve_global_extensions" {
			if err := sieve.CheckExtensions(nil, v); err != nil {
				return nil, fmt.Errorf("setting %s: %w", name, err)
			}
		}
		s[name] = v
	}
	return s, nil
}

// expandSettingValue expands a value as Dovecot expands the values it
// reads from its configuration and -o: %% is a %.
func expandSettingValue(v string) (string, error) {
	if !strings.Contains(v, "%") {
		return v, nil
	}
	var b strings.Builder
	for i := 0; i < len(v); i++ {
		if v[i] != '%' {
			b.WriteByte(v[i])
			continue
		}
		if i+1 < len(v) && v[i+1] == '%' {
			b.WriteByte('%')
			i++
			continue
		}
		name := v[i:]
		if len(name) > 1 && name[1] == '{' {
			if j := strings.IndexByte(name, '}'); j >= 0 {
				name = name[:j+1]
			}
		} else if len(name) > 2 {
			name = name[:2]
		}
		return "", fmt.Errorf("failed to expand %q: unknown variable %q (write %%%% for a %%)", v, name)
	}
	return b.String(), nil
}
