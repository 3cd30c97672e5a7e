package delivery

import (
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"sync/atomic"

	"github.com/vacationd/vacationd/metrics"
	"github.com/vacationd/vacationd/sieve"
)

// Compiler compiles scripts under one set of options: the extensions,
// settings and limits of a command. serve, test, check and ManageSieve's
// CHECKSCRIPT use one built from the same flags, so they accept exactly the
// same scripts. It caches compiled scripts by name and version and is safe
// for concurrent use.
type Compiler struct {
	opts sieve.Options
	log  *slog.Logger

	mu      sync.Mutex
	entries map[string]*compiled // by Script.Name

	// failures counts script versions that do not compile (the service's
	// metrics; nil outside a service).
	failures atomic.Pointer[metrics.Counter]
}

type compiled struct {
	version string
	script  *sieve.Script
	err     error
}

// NewCompiler returns a Compiler. opts.Resolver resolves :global includes;
// each script brings its own resolver for :personal ones. A nil log
// discards the compile errors of the scripts it loads.
func NewCompiler(opts sieve.Options, log *slog.Logger) *Compiler {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	return &Compiler{opts: opts, log: log, entries: map[string]*compiled{}}
}

// Compile compiles text, without caching: the errors are what `vacationd
// check` prints. includes resolves :personal includes (nil: none).
func (c *Compiler) Compile(name string, text []byte, includes sieve.ScriptResolver) (*sieve.Script, error) {
	return c.compile(Script{Name: name, Text: text, Includes: includes})
}

// compile compiles sc as a personal script, or as a global one (which may
// also require sieve_global_extensions) when sc.Global.
func (c *Compiler) compile(sc Script) (*sieve.Script, error) {
	opts := c.opts
	opts.Resolver = includeResolver{personal: sc.Includes, global: c.opts.Resolver}
	if sc.Global {
		opts.Location = sieve.Global
	}
	return sieve.Compile(sc.Name, sc.Text, &opts)
}

// Load returns the compiled form of sc, compiling it when its version is
// new. A script that does not compile returns its errors, which are logged
// once per version.
func (c *Compiler) Load(sc Script) (*sieve.Script, error) {
	version := sc.Version
	if version == "" {
		sum := sha256.Sum256(sc.Text)
		version = "sha256:" + hex.EncodeToString(sum[:])
	}
	key := sc.Name
	if sc.Global {
		key = "global\x00" + key
	}
	c.mu.Lock()
	e := c.entries[key]
	c.mu.Unlock()
	if e != nil && e.version == version {
		return e.script, e.err
	}
	s, err := c.compile(sc)
	if err != nil {
		err = fmt.Errorf("compile script %q: %w", sc.Name, err)
	}
	c.mu.Lock()
	if e := c.entries[key]; e != nil && e.version == version {
		// Another session compiled this version meanwhile and logged its
		// errors: use its result, so they are logged once.
		c.mu.Unlock()
		return e.script, e.err
	}
	c.entries[key] = &compiled{version: version, script: s, err: err}
	c.mu.Unlock()
	if err != nil {
		c.logErrors(sc.Name, err)
		if f := c.failures.Load(); f != nil {
			f.Inc("")
		}
	}
	return s, err
}

func (c *Compiler) logErrors(name string, err error) {
	const msg = "sieve script does not compile; delivering with implicit keep"
	var el sieve.ErrorList
	if !errors.As(err, &el) {
		c.log.Error(msg, "script", name, "error", err)
		return
	}
	for _, e := range el {
		c.log.Error(msg, "script", name, "error", e.Error())
	}
}

// includeResolver resolves :personal includes with the script's own
// resolver and :global ones with the compiler's.
type includeResolver struct {
	personal, global sieve.ScriptResolver
}

func (r includeResolver) Resolve(loc sieve.Location, name string) ([]byte, error) {
	res := r.personal
	if loc == sieve.Global {
		res = r.global
	}
	if res == nil {
		return nil, sieve.ErrScriptNotFound
	}
	return res.Resolve(loc, name)
}
