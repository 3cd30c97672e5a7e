package main

import (
	"flag"
	"fmt"
	"io"
	"os"
	"text/tabwriter"
)

// configCommand is vacationd's postconf -n / doveconf -n: the effective
// serve configuration and where each value came from.
func configCommand() command {
	return command{
		name:  "config",
		usage: "[-n] [SERVE FLAGS]: print the effective serve configuration and each value's origin",
		run:   runConfig,
	}
}

func runConfig(args []string, stdout, stderr io.Writer) int {
	onlySet := false
	if len(args) > 0 && args[0] == "-n" {
		onlySet, args = true, args[1:]
	}
	cfg, err := loadConfig(args, os.Environ(), stderr)
	if err != nil {
		return configError(stderr, "config", err)
	}
	printConfig(stdout, cfg, onlySet)
	return 0
}

// printConfig writes cfg as a TOML config file, each line commented with
// its origin; onlySet leaves out the settings at their default.
func printConfig(w io.Writer, cfg *config, onlySet bool) {
	v := buildVersion()
	fmt.Fprintf(w, "# vacationd %s: effective serve configuration\n", v.Version)
	tw := tabwriter.NewWriter(w, 0, 8, 1, ' ', 0)
	for _, name := range settingNames(cfg.fs) {
		src := cfg.source(name)
		if name == "config" || (onlySet && src == sourceDefault) {
			continue
		}
		fmt.Fprintf(tw, "%s = %s\t# %s\n", name, tomlValue(cfg.fs.Lookup(name)), src)
	}
	tw.Flush()
	if cfg.opts.config != "" {
		fmt.Fprintf(w, "# config file: %s (%s)\n", cfg.opts.config, cfg.source("config"))
	}
	for _, warn := range cfg.warnings {
		fmt.Fprintf(w, "# warning: %s\n", warn)
	}
}

// flagsOf is the serve flag set with its defaults, for the man page.
func flagsOf() *flag.FlagSet {
	_, fs := newServeFlagSet("serve", io.Discard)
	return fs
}
