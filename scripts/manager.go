// Package scripts manages users' stored Sieve scripts, the ones
// ManageSieve uploads and `vacationd script` and the admin API edit: it
// checks names, sizes and the per-user count, compiles every script with
// the service's own options before it is stored, and reports compile
// errors in Pigeonhole's words. The scripts live in a [store.Scripts].
package scripts

import (
	"errors"
	"fmt"
	"strings"
	"unicode/utf8"

	"github.com/vacationd/vacationd/delivery"
	"github.com/vacationd/vacationd/sieve"
	"github.com/vacationd/vacationd/store"
)

// Codes of an [Error]: ManageSieve's response codes (RFC 5804), which
// the admin API maps to HTTP statuses.
const (
	CodeNone          = ""
	CodeNonexistent   = "NONEXISTENT"
	CodeActive        = "ACTIVE"
	CodeAlreadyExists = "ALREADYEXISTS"
	CodeMaxSize       = "QUOTA/MAXSIZE"
	CodeMaxScripts    = "QUOTA/MAXSCRIPTS"
)

// Error is a refusal the user can act on: a missing script, a bad name,
// a quota, or a script that does not compile (Msg then holds
// Pigeonhole's report, one CRLF-terminated line per error). Any other
// error from a [Manager] means the store failed.
type Error struct {
	Code string
	Msg  string
	// Compile is set when the script did not compile (Msg is the
	// report).
	Compile bool
}

func (e *Error) Error() string { return e.Msg }

// Manager is the policy over a user's stored scripts. Its fields are
// read-only once in use; it is safe for concurrent use.
type Manager struct {
	Store store.Scripts
	// Compiler is the service's (its extensions, settings, limits and
	// :global includes), so a script is accepted here exactly when
	// delivery would run it; :personal includes resolve to the user's
	// other stored scripts.
	Compiler *delivery.Compiler
	// MaxSize bounds a script's size (default 1 MiB); MaxScripts the
	// number of scripts a user may have (0: no limit). The count is
	// checked before storing: two sessions of one user storing new
	// scripts at once may exceed it by one each.
	MaxSize    int64
	MaxScripts int
}

func (m *Manager) maxSize() int64 {
	if m.MaxSize > 0 {
		return m.MaxSize
	}
	return 1 << 20
}

// ValidName reports whether name is a valid script name, as Pigeonhole
// decides: 1 to 256 characters of UTF-8 without '/', control characters
// or line and paragraph separators.
func ValidName(name string) bool {
	if name == "" || !utf8.ValidString(name) || utf8.RuneCountInString(name) > 256 {
		return false
	}
	for _, r := range name {
		if r == '/' || r < 0x20 || (r >= 0x7f && r <= 0x9f) || r == 0x2028 || r == 0x2029 {
			return false
		}
	}
	return true
}

func badName(name string) error {
	return &Error{Msg: fmt.Sprintf("Invalid Sieve script name `%s'.", printable(name))}
}

func notFound(name string) error {
	return &Error{Code: CodeNonexistent, Msg: fmt.Sprintf("Sieve script `%s' not found", printable(name))}
}

// printable keeps a name's control characters out of a response.
func printable(s string) string {
	return strings.Map(func(r rune) rune {
		if r < 0x20 || r == 0x7f {
			return '?'
		}
		return r
	}, s)
}

// storeErr translates the store's errors for name into [Error]s.
func storeErr(name string, err error) error {
	switch {
	case err == nil:
		return nil
	case errors.Is(err, store.ErrNotFound):
		return notFound(name)
	case errors.Is(err, store.ErrActive):
		return &Error{Code: CodeActive, Msg: "Cannot delete the active Sieve script."}
	case errors.Is(err, store.ErrExists):
		return &Error{Code: CodeAlreadyExists, Msg: "A sieve script with that name already exists."}
	case errors.Is(err, store.ErrInvalid):
		return badName(name)
	}
	return err
}

// List returns user's scripts by name.
func (m *Manager) List(user string) ([]store.Script, error) {
	return m.Store.ListScripts(user)
}

// Get returns one script.
func (m *Manager) Get(user, name string) (store.Script, error) {
	if !ValidName(name) {
		return store.Script{}, notFound(name)
	}
	s, err := m.Store.GetScript(user, name)
	return s, storeErr(name, err)
}

// Check compiles src as user's script name ("" for CHECKSCRIPT, whose
// report has no name prefix). It returns Pigeonhole's warning lines, or
// an *Error with its error report.
func (m *Manager) Check(user, name string, src []byte) (string, error) {
	if int64(len(src)) > m.maxSize() {
		return "", m.tooLarge()
	}
	file := name
	if file == "" {
		file = "script"
	}
	s, summary, err := m.Compiler.Check(file, src, delivery.StoreResolver(m.Store, user))
	if err != nil {
		var el sieve.ErrorList
		if !errors.As(err, &el) {
			var one *sieve.Error
			if !errors.As(err, &one) {
				return "", &Error{Compile: true, Msg: Report(name, "error", sieve.ErrorList{{Msg: err.Error()}})}
			}
			el = sieve.ErrorList{one}
		}
		return "", &Error{Compile: true, Msg: Report(name, "error", append(el[:len(el):len(el)], &sieve.Error{Msg: summary}))}
	}
	return Report(name, "warning", s.Warnings()), nil
}

func (m *Manager) tooLarge() error {
	return &Error{Code: CodeMaxSize, Msg: fmt.Sprintf("Script is too large (max %d bytes).", m.maxSize())}
}

// Report formats compile errors or warnings as Pigeonhole's ManageSieve
// does: "name: line N: error: message." per line (no "name: " when name
// is ""), each ending in CRLF.
func Report(name, kind string, list sieve.ErrorList) string {
	var b strings.Builder
	for _, e := range list {
		if name != "" {
			b.WriteString(name + ": ")
		}
		if e.Pos.Line > 0 {
			fmt.Fprintf(&b, "line %d: ", e.Pos.Line)
		}
		msg := strings.TrimSuffix(e.Msg, ".")
		b.WriteString(kind + ": " + msg + ".\r\n")
	}
	return b.String()
}

// HaveSpace reports whether user could store a script of size bytes as
// name.
func (m *Manager) HaveSpace(user, name string, size int64) error {
	if !ValidName(name) {
		return &Error{Msg: "Invalid script name."}
	}
	if size > m.maxSize() {
		return m.tooLarge()
	}
	return m.checkCount(user, name)
}

// checkCount refuses a new script over MaxScripts.
func (m *Manager) checkCount(user, name string) error {
	if m.MaxScripts <= 0 {
		return nil
	}
	list, err := m.Store.ListScripts(user)
	if err != nil {
		return err
	}
	for _, s := range list {
		if s.Name == name {
			return nil // a replacement
		}
	}
	if len(list) >= m.MaxScripts {
		return &Error{Code: CodeMaxScripts, Msg: fmt.Sprintf("Script count quota exceeded (max %d scripts).", m.MaxScripts)}
	}
	return nil
}

// Put compiles src and, when it compiles, stores it as user's script
// name (replacing one of that name, which stays active if it was). It
// returns the compile warnings.
func (m *Manager) Put(user, name string, src []byte) (string, error) {
	if !ValidName(name) {
		return "", badName(name)
	}
	warn, err := m.Check(user, name, src)
	if err != nil {
		return "", err
	}
	if err := m.checkCount(user, name); err != nil {
		return "", err
	}
	return warn, storeErr(name, m.Store.PutScript(user, name, src))
}

// Activate makes name user's active script; "" deactivates. As
// Pigeonhole does, the script is compiled again first (the options may
// have changed since it was stored): one that no longer compiles is not
// activated, and the error is its report.
func (m *Manager) Activate(user, name string) error {
	if name == "" {
		return storeErr(name, m.Store.ActivateScript(user, ""))
	}
	s, err := m.Get(user, name)
	if err != nil {
		return err
	}
	if _, err := m.Check(user, name, s.Source); err != nil {
		return err
	}
	return storeErr(name, m.Store.ActivateScript(user, name))
}

// Delete deletes a script that is not active.
func (m *Manager) Delete(user, name string) error {
	if !ValidName(name) {
		return &Error{Msg: fmt.Sprintf("Invalid script name `%s'.", printable(name))}
	}
	return storeErr(name, m.Store.DeleteScript(user, name))
}

// Rename renames a script, keeping it active if it was.
func (m *Manager) Rename(user, from, to string) error {
	if !ValidName(from) {
		return notFound(from)
	}
	if !ValidName(to) {
		return badName(to)
	}
	err := m.Store.RenameScript(user, from, to)
	if errors.Is(err, store.ErrNotFound) {
		return notFound(from)
	}
	return storeErr(to, err)
}
