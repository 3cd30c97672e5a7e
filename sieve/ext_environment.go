package sieve

import "strings"

// environment (RFC 5183): the environment test matches items describing
// where the script runs. Items come from Env.Environment; name, version,
// location and phase have defaults. Item names are case-sensitive, as in
// Pigeonhole, and an unknown item makes the test false (even for :count).

// EngineName and EngineVersion are the defaults of the environment items
// "name" and "version".
const (
	EngineName    = "vacationd Sieve"
	EngineVersion = "0.1"
)

// environmentItems are the items the engine knows (RFC 5183 §4).
var environmentItems = []string{"domain", "host", "location", "name", "phase", "remote-host", "remote-ip", "version"}

// environmentDefaults are the values of items Env.Environment leaves out.
// vacationd delivers mail (LMTP), so the location is "MDA" and the phase
// "during".
var environmentDefaults = map[string]string{
	"name":     EngineName,
	"version":  EngineVersion,
	"location": "MDA",
	"phase":    "during",
}

func environmentExtension() *extension {
	return &extension{name: "environment", specs: []*spec{{
		name: "environment", test: true, match: true,
		args: []argType{tString, tStringList}, argNames: []string{"name", "key list"},
		eval: evalEnvironment,
	}}}
}

// environmentItem returns the value of item name and whether it has one.
func (r *run) environmentItem(name string) (string, bool) {
	if strings.HasPrefix(name, "vnd.dovecot.") {
		return r.vndEnvironmentItem(name)
	}
	known := false
	for _, it := range environmentItems {
		if it == name {
			known = true
			break
		}
	}
	if v, ok := r.env.Environment[name]; ok {
		return v, true
	}
	if !known {
		return "", false
	}
	v, ok := environmentDefaults[name]
	return v, ok
}

func evalEnvironment(r *run, n *node) (bool, error) {
	v, ok := r.environmentItem(r.string(n.args[0]))
	if !ok {
		return false, nil
	}
	return r.match(n, []string{v}, r.strings(n.args[1]))
}
