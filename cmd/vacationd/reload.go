package main

import (
	"flag"
	"fmt"
	"log/slog"
	"strings"
	"sync"
)

// A reloader applies a new configuration to a running service on SIGHUP,
// the way `postfix reload` and `doveadm reload` do, without dropping
// connections.
//
// Each part of the service that can change while running registers a
// hook with the settings it applies. A reload loads the configuration
// again (command line, environment, config file), then asks every hook to
// prepare: read its files (scripts, certificates, passwd-files), check
// the new values, build what it will swap in. Only when every hook has
// prepared without error are the commits run, so a reload either applies
// completely or not at all: a refused reload logs why and leaves the old
// configuration serving. Hooks run on every reload, even when none of
// their settings changed, so files named by unchanged settings are read
// again.
//
// A changed setting no hook handles needs a restart: the reload logs it
// and keeps the value the service started with.
type reloader struct {
	mu    sync.Mutex
	start *config // as the service started: restart-only settings
	cur   *config // as last applied
	load  func() (*config, error)
	hooks []reloadHook
	log   *slog.Logger
}

// reloadHook is one part of the service a reload updates.
type reloadHook struct {
	name  string
	flags []string
	// prepare checks c and returns the function that applies it. It must
	// not change the running service; commit must not fail.
	prepare func(c *config) (commit func(), err error)
}

func newReloader(c *config, load func() (*config, error), log *slog.Logger) *reloader {
	return &reloader{start: c, cur: c, load: load, log: log}
}

// register adds a hook applying the named settings. Safe to call before
// the service starts serving; hooks run in registration order.
func (r *reloader) register(name string, flags []string, prepare func(c *config) (func(), error)) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.hooks = append(r.hooks, reloadHook{name: name, flags: flags, prepare: prepare})
}

// reload loads and applies the configuration, logging what changed or why
// it was refused. It returns the refusal, if any.
func (r *reloader) reload() error {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.log.Info("reloading", "config", r.start.opts.config)
	next, err := r.load()
	if err != nil {
		r.log.Error("reload refused: old configuration stays", "error", err)
		return err
	}
	handled := map[string]bool{}
	for _, h := range r.hooks {
		for _, f := range h.flags {
			handled[f] = true
		}
	}
	var changed, restart []string
	for _, name := range settingNames(next.fs) {
		if !handled[name] {
			if was, now := flagValue(r.start.fs, name), flagValue(next.fs, name); was != now {
				restart = append(restart, fmt.Sprintf("%s: %s -> %s (restart needed)", name, was, now))
			}
			continue
		}
		if was, now := flagValue(r.cur.fs, name), flagValue(next.fs, name); was != now {
			changed = append(changed, fmt.Sprintf("%s: %s -> %s", name, was, now))
		}
	}
	commits := make([]func(), 0, len(r.hooks))
	names := make([]string, 0, len(r.hooks))
	for _, h := range r.hooks {
		commit, err := h.prepare(next)
		if err != nil {
			err = fmt.Errorf("%s: %w", h.name, err)
			r.log.Error("reload refused: old configuration stays", "error", err)
			return err
		}
		commits = append(commits, commit)
		names = append(names, h.name)
	}
	for _, c := range commits {
		c()
	}
	r.cur = next
	for _, s := range restart {
		r.log.Warn("reload: setting not applied", "change", s)
	}
	what := strings.Join(changed, "; ")
	if what == "" {
		what = "no setting (files named by settings were read again)"
	}
	r.log.Info("reloaded", "changed", what)
	r.log.Debug("reload hooks applied", "hooks", strings.Join(names, ","))
	return nil
}

// current returns the configuration last applied.
func (r *reloader) current() *config {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.cur
}

// flagValue is a flag's value as a log line shows it.
func flagValue(fs *flag.FlagSet, name string) string {
	f := fs.Lookup(name)
	if f == nil {
		return ""
	}
	return f.Value.String()
}

// reloadableFlags are the settings some reload hook applies (when its part
// of the service runs), for the man page; every other one needs a
// restart.
func reloadableFlags() map[string]bool {
	m := map[string]bool{"log-level": true, "http-token-file": true}
	for _, l := range [][]string{deliveryFlags, relayConnFlags, manageSieveReloadFlags} {
		for _, f := range l {
			m[f] = true
		}
	}
	return m
}
