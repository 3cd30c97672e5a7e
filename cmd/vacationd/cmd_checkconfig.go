package main

import (
	"fmt"
	"io"
	"io/fs"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
)

// checkConfig is `vacationd check --config FILE [SCRIPT...]`, what
// `postfix check` is to Postfix: the serve configuration read as serve
// reads it (the file, then VACATIOND_* variables), the start-up checks,
// the script source, and every script serve would run from the files
// named (--sieve-before/-after, a dir: source's scripts, or the SCRIPTs
// given) compiled under serve's extensions and settings.
func checkConfig(file string, scripts []string, stdout, stderr io.Writer) int {
	cfg, err := loadConfig([]string{"--config", file}, os.Environ(), stderr)
	if err != nil {
		return configError(stderr, "check", err)
	}
	o := cfg.opts
	fail := func(err error) int {
		fmt.Fprintf(stderr, "vacationd check: %s: %v\n", file, err)
		return 1
	}
	for _, warn := range cfg.warnings {
		fmt.Fprintf(stderr, "vacationd check: warning: %s\n", warn)
	}
	if err := checkStart(o); err != nil {
		return fail(err)
	}
	if o.relay != "" {
		// The relay connection's settings as serve reads them (nothing is dialled).
		s, err := newSender(o, slog.New(slog.DiscardHandler))
		if err != nil {
			return fail(err)
		}
		s.Close()
	}
	if _, err := serveSource(o, nil, nil); err != nil {
		return fail(err)
	}
	settings, _, err := serveSettings(o)
	if err != nil {
		return fail(err)
	}
	if len(scripts) == 0 {
		scripts = append(append([]string{}, o.before...), o.after...)
		if dir, ok := strings.CutPrefix(scriptSpec(o), "dir:"); ok {
			found, err := sieveFiles(dir)
			if err != nil {
				return fail(err)
			}
			scripts = append(scripts, found...)
		}
	}
	c := newCompiler(settings, o.extensions, globalResolver(o.globalDir), nil)
	bad := 0
	for _, p := range scripts {
		if checkScript(c, p, stderr) != nil {
			bad++
		}
	}
	if bad > 0 {
		fmt.Fprintf(stderr, "vacationd check: %s: %d of %d scripts do not compile\n", file, bad, len(scripts))
		return 1
	}
	fmt.Fprintf(stdout, "%s: configuration ok, %d script%s compiled\n", file, len(scripts), plural(len(scripts)))
	return 0
}

// sieveFiles lists the *.sieve files under dir.
func sieveFiles(dir string) ([]string, error) {
	var out []string
	err := filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if !d.IsDir() && strings.HasSuffix(p, ".sieve") {
			out = append(out, p)
		}
		return nil
	})
	return out, err
}
