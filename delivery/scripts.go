package delivery

import (
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"github.com/vacationd/vacationd/sieve"
)

// scriptCache compiles scripts from disk once and recompiles a script when
// its file changes (size or modification time). A script that fails to
// compile is logged once per change and treated as absent.
type scriptCache struct {
	opts *sieve.Options
	log  *slog.Logger

	mu      sync.Mutex
	entries map[string]*cacheEntry
}

type cacheEntry struct {
	mod    time.Time
	size   int64
	script *sieve.Script
	err    error
}

func newScriptCache(opts *sieve.Options, log *slog.Logger) *scriptCache {
	return &scriptCache{opts: opts, log: log, entries: map[string]*cacheEntry{}}
}

// load returns the compiled script at path, or nil when there is none. A
// compile error is returned (and logged once per change of the file).
func (c *scriptCache) load(path string) (*sieve.Script, error) {
	st, err := os.Stat(path)
	if errors.Is(err, fs.ErrNotExist) {
		c.mu.Lock()
		delete(c.entries, path)
		c.mu.Unlock()
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("stat script %q: %w", path, err)
	}
	c.mu.Lock()
	e := c.entries[path]
	c.mu.Unlock()
	if e != nil && e.mod.Equal(st.ModTime()) && e.size == st.Size() {
		return e.script, e.err
	}
	src, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("read script %q: %w", path, err)
	}
	name := strings.TrimSuffix(filepath.Base(path), ".sieve")
	opts := *c.opts
	opts.Resolver = dirResolver{personal: filepath.Dir(path), global: c.opts.Resolver}
	s, cerr := sieve.Compile(name, src, &opts)
	if cerr != nil {
		cerr = fmt.Errorf("compile script %q: %w", path, cerr)
	}
	c.mu.Lock()
	if e := c.entries[path]; e != nil && e.mod.Equal(st.ModTime()) && e.size == st.Size() {
		// Another session compiled this version meanwhile and logged
		// its errors: use its result, so they are logged once.
		c.mu.Unlock()
		return e.script, e.err
	}
	c.entries[path] = &cacheEntry{mod: st.ModTime(), size: st.Size(), script: s, err: cerr}
	c.mu.Unlock()
	if cerr != nil {
		var el sieve.ErrorList
		if errors.As(cerr, &el) {
			for _, e := range el {
				c.log.Error("sieve script does not compile; delivering with implicit keep", "script", path, "error", e.Error())
			}
		} else {
			c.log.Error("sieve script does not compile; delivering with implicit keep", "script", path, "error", cerr)
		}
	}
	return s, cerr
}

// dirResolver resolves :personal includes next to the user's script and
// :global ones through the configured resolver.
type dirResolver struct {
	personal string
	global   sieve.ScriptResolver
}

func (d dirResolver) Resolve(loc sieve.Location, name string) ([]byte, error) {
	if loc == sieve.Global {
		if d.global == nil {
			return nil, sieve.ErrScriptNotFound
		}
		return d.global.Resolve(loc, name)
	}
	return DirResolver(d.personal).Resolve(loc, name)
}

// DirResolver resolves included scripts as NAME.sieve in a directory.
type DirResolver string

// Resolve implements sieve.ScriptResolver.
func (d DirResolver) Resolve(_ sieve.Location, name string) ([]byte, error) {
	if name == "" || strings.ContainsAny(name, "/\\") || strings.HasPrefix(name, ".") {
		return nil, sieve.ErrScriptNotFound
	}
	b, err := os.ReadFile(filepath.Join(string(d), name+".sieve"))
	if errors.Is(err, fs.ErrNotExist) {
		return nil, sieve.ErrScriptNotFound
	}
	return b, err
}
