package main

import (
	"fmt"
	"io"
	"runtime"
	"runtime/debug"
)

// Set at link time by the Makefile (-ldflags -X); empty in a plain
// `go build`, where the module build info is used instead.
var (
	linkVersion string
	linkCommit  string
)

// versionInfo identifies the binary, in `vacationd version` and the
// vacationd_build_info metric.
type versionInfo struct {
	Version, Commit, GoVersion string
}

// buildVersion reads the version from the link-time values, else from the
// build info Go embeds (module version, VCS revision).
func buildVersion() versionInfo {
	v := versionInfo{Version: linkVersion, Commit: linkCommit, GoVersion: runtime.Version()}
	if bi, ok := debug.ReadBuildInfo(); ok {
		if v.Version == "" && bi.Main.Version != "" {
			v.Version = bi.Main.Version
		}
		for _, s := range bi.Settings {
			if s.Key == "vcs.revision" && v.Commit == "" {
				v.Commit = s.Value
			}
		}
	}
	if v.Version == "" {
		v.Version = "(devel)"
	}
	if v.Commit == "" {
		v.Commit = "unknown"
	}
	return v
}

func versionCommand() command {
	return command{name: "version", usage: "print the version, commit and Go version", run: runVersion}
}

func runVersion(args []string, stdout, stderr io.Writer) int {
	if len(args) > 0 {
		fmt.Fprintf(stderr, "vacationd version: takes no arguments\n")
		return 2
	}
	v := buildVersion()
	fmt.Fprintf(stdout, "vacationd %s (commit %s, %s)\n", v.Version, v.Commit, v.GoVersion)
	return 0
}
