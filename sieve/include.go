package sieve

import "errors"

// Location is where an included script lives (RFC 6609).
type Location uint8

const (
	Personal Location = iota
	Global
)

func (l Location) String() string {
	if l == Global {
		return "global"
	}
	return "personal"
}

// ErrScriptNotFound is returned by a ScriptResolver for a missing script.
var ErrScriptNotFound = errors.New("script not found")

// ScriptResolver loads the source of scripts named by include.
type ScriptResolver interface {
	Resolve(loc Location, name string) ([]byte, error)
}

type includeKey struct {
	loc  Location
	name string
}
