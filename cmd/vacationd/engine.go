package main

import (
	"context"
	"fmt"
	"log/slog"
	"path/filepath"
	"strings"

	"github.com/vacationd/vacationd/delivery"
	"github.com/vacationd/vacationd/sieve"
	"github.com/vacationd/vacationd/store"
)

// newCompiler is the compiler of every command that compiles scripts
// (serve, test, check): the extensions are Pigeonhole's defaults changed
// by sieve_extensions from the settings, then by the command's -x (serve:
// --extensions); global scripts (sieve_before, sieve_after) may also
// require those of sieve_global_extensions. So every command accepts
// exactly the same scripts under the same options. global resolves
// :global includes (nil: none).
func newCompiler(settings sieve.Settings, extensions string, global sieve.ScriptResolver, log *slog.Logger) *delivery.Compiler {
	spec := strings.Join(strings.Fields(settings.String("sieve_extensions", "")+" "+extensions), " ")
	return delivery.NewCompiler(sieve.Options{Extensions: spec, Settings: settings, Resolver: global}, log)
}

// scriptSource builds the source --script-source names:
//
//	dir:PATH              PATH/<domain>/<local>.sieve, else PATH/<address>.sieve
//	dovecot-home:TEMPLATE Dovecot's ~/.dovecot.sieve under a home template (/var/vmail/%d/%n)
//	store                 the active script stored by ManageSieve or `vacationd script`
//	mailu:URL             the script Mailu's admin at URL renders for Dovecot's sieve_before
//
// mm receives the admin lookups' metrics of mailu: (nil: none).
// A source that cannot be used (a directory that does not exist or
// cannot be read) is an error, so the service does not start without it.
func scriptSource(spec string, scripts store.Scripts, mm *delivery.MailuMetrics) (delivery.Source, error) {
	kind, arg, _ := strings.Cut(spec, ":")
	switch kind {
	case "dir":
		if arg == "" {
			return nil, fmt.Errorf("%q: want dir:PATH", spec)
		}
		return delivery.OpenDirSource(arg)
	case "dovecot-home":
		return delivery.NewHomeSource(arg)
	case "store":
		if arg != "" {
			return nil, fmt.Errorf("%q: store takes no argument", spec)
		}
		return delivery.StoreSource{Store: scripts}, nil
	case "mailu":
		return delivery.NewMailuSource(delivery.MailuConfig{URL: arg, Metrics: mm})
	}
	return nil, fmt.Errorf("%q: unknown source (want dir:PATH, dovecot-home:TEMPLATE, store or mailu:URL)", spec)
}

// scriptAround wraps a personal source with sieve_before and sieve_after
// scripts, which must exist.
func scriptAround(personal delivery.Source, before, after []string) (delivery.Source, error) {
	for flag, paths := range map[string][]string{"--sieve-before": before, "--sieve-after": after} {
		if _, err := delivery.Files(paths).Scripts(context.Background(), ""); err != nil {
			return nil, fmt.Errorf("%s: %w", flag, err)
		}
	}
	l := delivery.Layered{Personal: personal}
	if len(before) > 0 {
		l.Before = &delivery.Cached{Source: delivery.Files(before), TTL: scriptRecheck, Shared: true}
	}
	if len(after) > 0 {
		l.After = &delivery.Cached{Source: delivery.Files(after), TTL: scriptRecheck, Shared: true}
	}
	return l, nil
}

// globalResolver resolves :global includes in dir ("" for none).
func globalResolver(dir string) sieve.ScriptResolver {
	if dir == "" {
		return nil
	}
	return delivery.DirResolver(filepath.Clean(dir))
}
