package delivery

import (
	"context"
	"fmt"
	"path/filepath"
	"strings"
)

// HomeSource reads scripts where Dovecot keeps them with
// `sieve = file:~/sieve;active=~/.dovecot.sieve`: the active script is
// HOME/.dovecot.sieve (usually a symbolic link into HOME/sieve/), and
// :personal includes are HOME/sieve/NAME.sieve. HOME comes from a template
// with Dovecot's variables: %u (or %{user}) the user, %n (%{username}) its
// local part, %d (%{domain}) its domain, %% a %. So an existing Dovecot
// installation's users' scripts run unchanged.
type HomeSource struct {
	template string
}

// NewHomeSource checks template and returns its source.
func NewHomeSource(template string) (*HomeSource, error) {
	if template == "" {
		return nil, fmt.Errorf("dovecot-home: empty home template")
	}
	if _, err := expandHome(template, "user@example.com"); err != nil {
		return nil, fmt.Errorf("dovecot-home %q: %w", template, err)
	}
	return &HomeSource{template: template}, nil
}

// Scripts implements Source.
func (h *HomeSource) Scripts(_ context.Context, user string) ([]Script, error) {
	local, domain, _ := strings.Cut(user, "@")
	if !safeName(user) || local == "" || strings.HasPrefix(domain, ".") {
		return nil, nil
	}
	home, err := expandHome(h.template, user)
	if err != nil {
		return nil, err
	}
	sc, found, err := readScriptFile(filepath.Join(home, ".dovecot.sieve"))
	if err != nil || !found {
		return nil, err
	}
	sc.Includes = DirResolver(filepath.Join(home, "sieve"))
	return []Script{sc}, nil
}

// expandHome expands Dovecot's user variables in a home template.
func expandHome(template, user string) (string, error) {
	local, domain, _ := strings.Cut(user, "@")
	vars := map[string]string{"u": user, "user": user, "n": local, "username": local, "d": domain, "domain": domain}
	var b strings.Builder
	for i := 0; i < len(template); i++ {
		c := template[i]
		if c != '%' {
			b.WriteByte(c)
			continue
		}
		if i+1 >= len(template) {
			return "", fmt.Errorf("a %% at the end of the template")
		}
		i++
		if template[i] == '%' {
			b.WriteByte('%')
			continue
		}
		name := template[i : i+1]
		if template[i] == '{' {
			j := strings.IndexByte(template[i:], '}')
			if j < 0 {
				return "", fmt.Errorf("unterminated %%{ in the template")
			}
			name = template[i+1 : i+j]
			i += j
		}
		v, ok := vars[name]
		if !ok {
			return "", fmt.Errorf("unknown variable %%%s (know %%u, %%n, %%d)", name)
		}
		b.WriteString(v)
	}
	return b.String(), nil
}
