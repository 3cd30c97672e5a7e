package delivery

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strconv"
	"strings"

	"github.com/vacationd/vacationd/sieve"
)

// DirSource finds a user's script in a directory as
// DIR/<domain>/<local>.sieve, else DIR/<address>.sieve. Includes
// (:personal) are NAME.sieve beside the script.
type DirSource string

// OpenDirSource returns the source for dir after checking that it is a
// directory that can be read, so a wrong path stops the start instead of
// delivering every message without its script.
func OpenDirSource(dir string) (DirSource, error) {
	if err := checkDir(dir); err != nil {
		return "", fmt.Errorf("scripts directory: %w", err)
	}
	return DirSource(dir), nil
}

func checkDir(dir string) error {
	f, err := os.Open(dir)
	if err != nil {
		return err
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return err
	}
	if !st.IsDir() {
		return fmt.Errorf("%s: not a directory", dir)
	}
	if _, err := f.ReadDir(1); err != nil && !errors.Is(err, io.EOF) {
		return fmt.Errorf("%s: %w", dir, err)
	}
	return nil
}

// Scripts implements Source.
func (d DirSource) Scripts(_ context.Context, user string) ([]Script, error) {
	for _, p := range d.paths(user) {
		sc, found, err := readScriptFile(p)
		if err != nil {
			return nil, err
		}
		if found {
			return []Script{sc}, nil
		}
	}
	return nil, nil
}

// paths lists where user's script may be, in order.
func (d DirSource) paths(user string) []string {
	if !safeName(user) {
		return nil
	}
	var out []string
	local, domain, ok := strings.Cut(user, "@")
	if ok && safeName(local) && safeName(domain) {
		out = append(out, filepath.Join(string(d), domain, local+".sieve"))
	}
	return append(out, filepath.Join(string(d), user+".sieve"))
}

func safeName(s string) bool {
	return s != "" && !strings.ContainsAny(s, "/\\\x00") && !strings.HasPrefix(s, ".")
}

// readScriptFile reads the script at path; found is false when there is
// no file. Its version is the file's size and modification time; its
// :personal includes are NAME.sieve in its directory.
func readScriptFile(path string) (sc Script, found bool, err error) {
	st, err := os.Stat(path)
	if errors.Is(err, fs.ErrNotExist) {
		return Script{}, false, nil
	}
	if err != nil {
		return Script{}, false, fmt.Errorf("script %s: %w", path, err)
	}
	text, err := os.ReadFile(path)
	if err != nil {
		return Script{}, false, fmt.Errorf("script %s: %w", path, err)
	}
	return Script{
		Name:     path,
		Version:  strconv.FormatInt(st.Size(), 10) + "@" + strconv.FormatInt(st.ModTime().UnixNano(), 10),
		Text:     text,
		Includes: DirResolver(filepath.Dir(path)),
	}, true, nil
}

// Files is a Source of the same script files for every user: the scripts
// `vacationd test` runs, and sieve_before/sieve_after around another
// source. A file that does not exist is an error.
type Files []string

// Scripts implements Source.
func (f Files) Scripts(context.Context, string) ([]Script, error) {
	out := make([]Script, 0, len(f))
	for _, p := range f {
		sc, found, err := readScriptFile(p)
		if err != nil {
			return nil, err
		}
		if !found {
			return nil, fmt.Errorf("script %s: %w", p, fs.ErrNotExist)
		}
		out = append(out, sc)
	}
	return out, nil
}

// Layered runs Before's scripts, then the user's from Personal, then
// After's, as Pigeonhole runs sieve_before, the personal script and
// sieve_after; Before's and After's are global scripts. Nil parts are
// skipped.
type Layered struct {
	Before, Personal, After Source
}

// Scripts implements Source.
func (l Layered) Scripts(ctx context.Context, user string) ([]Script, error) {
	var out []Script
	for i, s := range []Source{l.Before, l.Personal, l.After} {
		if s == nil {
			continue
		}
		part, err := s.Scripts(ctx, user)
		if err != nil {
			return nil, err
		}
		for _, sc := range part {
			sc.Global = sc.Global || i != 1
			out = append(out, sc)
		}
	}
	return out, nil
}

// DirResolver resolves included scripts as NAME.sieve in a directory (a
// name already ending in .sieve is taken as it is).
type DirResolver string

// Resolve implements sieve.ScriptResolver.
func (d DirResolver) Resolve(_ sieve.Location, name string) ([]byte, error) {
	if name == "" || strings.ContainsAny(name, "/\\\x00") || strings.HasPrefix(name, ".") {
		return nil, sieve.ErrScriptNotFound
	}
	if !strings.HasSuffix(name, ".sieve") {
		name += ".sieve"
	}
	b, err := os.ReadFile(filepath.Join(string(d), name))
	if errors.Is(err, fs.ErrNotExist) {
		return nil, sieve.ErrScriptNotFound
	}
	return b, err
}
