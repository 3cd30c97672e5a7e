package sieve

import (
	"sort"
	"sync"
)

// extension is a capability a script can require: the commands and tests it
// brings (tags it adds to other commands are declared on those commands'
// specs, gated by the capability name).
type extension struct {
	name  string
	specs []*spec
	// implies lists capabilities that requiring this one also requires.
	implies []string
	// defaultOff extensions are known but disabled unless configured;
	// offByDefault (extensions.go) sets it for the engine's own.
	defaultOff bool
	// namespaces are the variable namespaces (e.g. "tst" in "${tst.x}")
	// that scripts requiring the capability may use.
	namespaces []string
	// onRequire runs once when a script requires the capability.
	onRequire func(c *checker, p Position)
	// validate runs once the script's require commands are done (at its
	// first other command), as Pigeonhole's extension validate hook; p is
	// where the capability was required.
	validate func(c *checker, p Position)
}

// registry is the immutable table of every capability the engine knows.
type registry struct {
	exts  map[string]*extension
	specs map[string][]*spec // by command/test name
}

func newRegistry(exts ...*extension) *registry {
	r := &registry{exts: map[string]*extension{}, specs: map[string][]*spec{}}
	r.add(exts...)
	return r
}

// add registers more extensions (while the registry is being built).
func (r *registry) add(exts ...*extension) {
	for _, e := range exts {
		e.defaultOff = e.defaultOff || defaultOff(e.name)
		r.exts[e.name] = e
		for _, s := range e.specs {
			s.ext = e.name
			r.specs[s.name] = append(r.specs[s.name], s)
		}
	}
}

var (
	registryOnce sync.Once
	registryVal  *registry
)

// stdRegistry returns the table of every extension. It is built once, on
// first use, and never modified afterwards.
func stdRegistry() *registry {
	registryOnce.Do(func() { registryVal = newRegistry(allExtensions()...) })
	return registryVal
}

// Capabilities lists the capabilities enabled by default, sorted, as a
// server would announce them.
func Capabilities() []string {
	var out []string
	for name, e := range stdRegistry().exts {
		if name == "" || e.defaultOff {
			continue
		}
		out = append(out, name)
	}
	sort.Strings(out)
	return out
}
