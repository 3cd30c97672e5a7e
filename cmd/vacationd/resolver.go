package main

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"

	"github.com/vacationd/vacationd/sieve"
)

// dirResolver resolves include names to files beside the including
// script: "name" is "name.sieve" in the script's directory, for personal
// and global scripts alike.
type dirResolver string

func (d dirResolver) Resolve(loc sieve.Location, name string) ([]byte, error) {
	if name == "" || strings.ContainsAny(name, "/\\\x00") || name == "." || name == ".." {
		return nil, fmt.Errorf("include %q: invalid script name", name)
	}
	if !strings.HasSuffix(name, ".sieve") {
		name += ".sieve"
	}
	p := filepath.Join(filepath.Dir(string(d)), name)
	src, err := os.ReadFile(p)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, fmt.Errorf("include %s script %q: %w", loc, name, sieve.ErrScriptNotFound)
	}
	if err != nil {
		return nil, fmt.Errorf("include %s script %q: %w", loc, name, err)
	}
	return src, nil
}
