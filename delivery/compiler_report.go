package delivery

import (
	"github.com/vacationd/vacationd/sieve"
	"github.com/vacationd/vacationd/store"
)

// Check compiles text as [Compiler.Compile] does and also returns
// Pigeonhole's summary of a failure ("parse failed", "validation
// failed"), which ManageSieve's PUTSCRIPT and CHECKSCRIPT report.
func (c *Compiler) Check(name string, text []byte, includes sieve.ScriptResolver) (*sieve.Script, string, error) {
	opts := c.opts
	opts.Resolver = includeResolver{personal: includes, global: c.opts.Resolver}
	return sieve.CompileReport(name, text, &opts)
}

// Capabilities lists the extensions the scripts c compiles may require,
// as ManageSieve's SIEVE capability announces them.
func (c *Compiler) Capabilities() []string { return sieve.EnabledCapabilities(&c.opts) }

// MaxRedirects is the redirect limit of a run (sieve_max_redirects).
func (c *Compiler) MaxRedirects() int {
	if n := c.opts.Settings.Int("sieve_max_redirects", 0); n > 0 {
		return int(n)
	}
	return c.opts.Limits.WithDefaults().Redirects
}

// StoreResolver resolves :personal includes among user's stored scripts,
// as the store source does at delivery.
func StoreResolver(st store.Scripts, user string) sieve.ScriptResolver {
	return storeResolver{st, user}
}
