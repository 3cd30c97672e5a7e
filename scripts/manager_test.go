package scripts

import (
	"errors"
	"path/filepath"
	"strings"
	"testing"

	"github.com/vacationd/vacationd/delivery"
	"github.com/vacationd/vacationd/sieve"
	"github.com/vacationd/vacationd/store"
)

func TestValidName(t *testing.T) {
	for name, want := range map[string]bool{
		"vacation": true, "roundcube": true, "Ünïcode script": true, strings.Repeat("x", 256): true,
		"": false, "a/b": false, "tab\there": false, "nl\n": false, "\u2028": false, strings.Repeat("x", 257): false, "\xff": false,
	} {
		if got := ValidName(name); got != want {
			t.Errorf("ValidName(%q) = %v", name, got)
		}
	}
}

func TestReport(t *testing.T) {
	got := Report("s", "error", sieve.ErrorList{{Pos: sieve.Position{Line: 3}, Msg: "oops"}, {Msg: "validation failed"}})
	if want := "s: line 3: error: oops.\r\ns: error: validation failed.\r\n"; got != want {
		t.Errorf("Report = %q, want %q", got, want)
	}
}

// TestIncludePersonal: a stored script's :personal include names the
// user's other stored scripts, at check time as at delivery.
func TestIncludePersonal(t *testing.T) {
	db, err := store.Open(filepath.Join(t.TempDir(), "v.db"), store.Options{NoSync: true})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	m := &Manager{Store: db, Compiler: delivery.NewCompiler(sieve.Options{}, nil), MaxSize: 100}
	const u = "alice@example.com"
	inc := `require "include"; include :personal "lib";`
	if _, err := m.Put(u, "main", []byte(inc)); err == nil {
		t.Error("include of a missing script stored")
	}
	if _, err := m.Put(u, "lib", []byte("keep;")); err != nil {
		t.Fatal(err)
	}
	if _, err := m.Put(u, "main", []byte(inc)); err != nil {
		t.Errorf("include of a stored script: %v", err)
	}
	// A script stored under other options is compiled again at activation.
	if err := db.PutScript(u, "raw", []byte("foo;")); err != nil {
		t.Fatal(err)
	}
	var e *Error
	if err := m.Activate(u, "raw"); !errors.As(err, &e) || !e.Compile || !strings.Contains(e.Msg, "raw: line 1: error: unknown command 'foo'") {
		t.Errorf("activating a script that does not compile: %v", err)
	}
	if err := m.Activate(u, "main"); err != nil {
		t.Errorf("activate: %v", err)
	}
	if _, err := m.Put(u, "big", []byte(strings.Repeat("#", 101))); !errors.As(err, &e) || e.Code != CodeMaxSize {
		t.Errorf("too large: %v", err)
	}
}
