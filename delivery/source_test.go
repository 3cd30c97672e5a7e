package delivery

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/vacationd/vacationd/sieve"
	"github.com/vacationd/vacationd/store"
)

func writeFiles(t *testing.T, root string, files map[string]string) {
	t.Helper()
	for name, body := range files {
		p := filepath.Join(root, name)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
	}
}

// names returns the Name and Text of each script, for comparing.
func names(scripts []Script) string {
	var out []string
	for _, s := range scripts {
		out = append(out, filepath.Base(s.Name)+"="+strings.TrimSpace(string(s.Text)))
	}
	return strings.Join(out, " ")
}

func TestDirSource(t *testing.T) {
	dir := t.TempDir()
	writeFiles(t, dir, map[string]string{
		"example.com/bob.sieve":     "keep;",
		"carol@example.org.sieve":   "discard;",
		"example.com/inc.sieve":     "stop;",
		"example.com/.hidden.sieve": "discard;",
	})
	src, err := OpenDirSource(dir)
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct{ user, want string }{
		{"bob@example.com", "bob.sieve=keep;"},
		{"carol@example.org", "carol@example.org.sieve=discard;"},
		{"dave@example.com", ""},
		{"../bob@example.com", ""},
		{".hidden@example.com", ""},
	} {
		got, err := src.Scripts(context.Background(), tc.user)
		if err != nil || names(got) != tc.want {
			t.Errorf("Scripts(%q) = %q, %v; want %q", tc.user, names(got), err, tc.want)
		}
	}
	got, _ := src.Scripts(context.Background(), "bob@example.com")
	if b, err := got[0].Includes.Resolve(sieve.Personal, "inc"); err != nil || string(b) != "stop;" {
		t.Errorf("include beside the script: %q, %v", b, err)
	}
	if _, err := got[0].Includes.Resolve(sieve.Personal, ".hidden"); !errors.Is(err, sieve.ErrScriptNotFound) {
		t.Errorf("hidden include: %v", err)
	}
	// The version changes with the file.
	v1 := got[0].Version
	os.WriteFile(filepath.Join(dir, "example.com/bob.sieve"), []byte("keep; stop;"), 0o644)
	got, _ = src.Scripts(context.Background(), "bob@example.com")
	if got[0].Version == v1 {
		t.Errorf("version %q did not change with the file", v1)
	}

	for _, bad := range []string{filepath.Join(dir, "missing"), filepath.Join(dir, "carol@example.org.sieve")} {
		if _, err := OpenDirSource(bad); err == nil {
			t.Errorf("OpenDirSource(%s): no error", bad)
		}
	}
}

func TestHomeSource(t *testing.T) {
	root := t.TempDir()
	writeFiles(t, root, map[string]string{
		"example.com/bob/sieve/away.sieve":   "require \"include\"; include :personal \"common\";",
		"example.com/bob/sieve/common.sieve": "keep;",
		"example.com/carol/sieve/x.sieve":    "discard;",
	})
	if err := os.Symlink("sieve/away.sieve", filepath.Join(root, "example.com/bob/.dovecot.sieve")); err != nil {
		t.Fatal(err)
	}
	src, err := NewHomeSource(root + "/%d/%n")
	if err != nil {
		t.Fatal(err)
	}
	got, err := src.Scripts(context.Background(), "bob@example.com")
	if err != nil || len(got) != 1 || !strings.Contains(string(got[0].Text), "include :personal") {
		t.Fatalf("bob: %q, %v", names(got), err)
	}
	if b, err := got[0].Includes.Resolve(sieve.Personal, "common"); err != nil || string(b) != "keep;" {
		t.Errorf("include from ~/sieve: %q, %v", b, err)
	}
	// No active script, no home: no script, no error.
	for _, u := range []string{"carol@example.com", "nobody@example.com", "../x@example.com"} {
		if got, err := src.Scripts(context.Background(), u); err != nil || len(got) != 0 {
			t.Errorf("%s: %q, %v; want none", u, names(got), err)
		}
	}
	for tmpl, want := range map[string]string{
		"/var/vmail/%d/%n":               "/var/vmail/example.com/bob",
		"/home/%{domain}/%{username}/%%": "/home/example.com/bob/%",
		"/srv/%u":                        "/srv/bob@example.com",
	} {
		if got, err := expandHome(tmpl, "bob@example.com"); err != nil || got != want {
			t.Errorf("expandHome(%q) = %q, %v; want %q", tmpl, got, err, want)
		}
	}
	for _, bad := range []string{"", "/var/%x", "/var/%{nope}", "/var/%{d", "/var/%"} {
		if _, err := NewHomeSource(bad); err == nil {
			t.Errorf("NewHomeSource(%q): no error", bad)
		}
	}
}

func TestStoreSourceAndLayered(t *testing.T) {
	db, err := store.Open(filepath.Join(t.TempDir(), "v.db"), store.Options{NoSync: true})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	src := StoreSource{Store: db}
	if got, err := src.Scripts(context.Background(), "bob@example.com"); err != nil || len(got) != 0 {
		t.Fatalf("no stored script: %q, %v", names(got), err)
	}
	db.PutScript("bob@example.com", "away", []byte("require \"include\"; include :personal \"lib\";"))
	db.PutScript("bob@example.com", "lib", []byte("keep;"))
	if got, _ := src.Scripts(context.Background(), "bob@example.com"); len(got) != 0 {
		t.Fatalf("inactive script runs: %q", names(got))
	}
	db.ActivateScript("bob@example.com", "away")
	got, err := src.Scripts(context.Background(), "bob@example.com")
	if err != nil || len(got) != 1 || got[0].Name != "store:bob@example.com:away" {
		t.Fatalf("active script: %q, %v", names(got), err)
	}
	if b, err := got[0].Includes.Resolve(sieve.Personal, "lib"); err != nil || string(b) != "keep;" {
		t.Errorf("include of a stored script: %q, %v", b, err)
	}
	v1 := got[0].Version
	db.PutScript("bob@example.com", "away", []byte("discard;"))
	if got, _ := src.Scripts(context.Background(), "bob@example.com"); got[0].Version == v1 || string(got[0].Text) != "discard;" {
		t.Errorf("an upload is not what runs next: %q version %q", names(got), got[0].Version)
	}

	dir := t.TempDir()
	writeFiles(t, dir, map[string]string{"before.sieve": "keep;", "after.sieve": "stop;"})
	l := Layered{Before: Files{filepath.Join(dir, "before.sieve")}, Personal: src, After: Files{filepath.Join(dir, "after.sieve")}}
	got, err = l.Scripts(context.Background(), "bob@example.com")
	if err != nil || names(got) != "before.sieve=keep; store:bob@example.com:away=discard; after.sieve=stop;" {
		t.Errorf("layered: %q, %v", names(got), err)
	}
	db.Close()
	if _, err := l.Scripts(context.Background(), "bob@example.com"); err == nil {
		t.Errorf("a closed store: no error (the recipient would get a 250 without its script)")
	}
}

// flakySource is a source that is unavailable for some users.
type flakySource struct {
	Source
	down map[string]bool
}

func (f flakySource) Scripts(ctx context.Context, user string) ([]Script, error) {
	if f.down[user] {
		return nil, errors.New("admin did not answer")
	}
	return f.Source.Scripts(ctx, user)
}

// A source that is unavailable answers that recipient 451 (never a 250
// without its script); the others are delivered.
func TestUnavailableSourceIsTemporary(t *testing.T) {
	f := newFixture(t, map[string]string{"example.com/bob.sieve": vacationScript, "example.com/carol.sieve": vacationScript}, nil)
	f.svc.pipe.Source = flakySource{DirSource(f.scripts), map[string]bool{"bob@example.com": true}}
	st := f.deliver(t, "alice@example.org", "bob@example.com", "carol@example.com")
	if st[0].Code != 451 || !strings.Contains(st[0].Message, "loading the Sieve script") || st[1].Code != 250 {
		t.Fatalf("statuses %v, want 451 for bob (source down) and 250 for carol", st)
	}
	if n := len(f.outbox(t)); n != 1 {
		t.Errorf("%d replies queued, want carol's only", n)
	}
}

// sieve_global_extensions are for global scripts (sieve_before/after)
// only, as in Pigeonhole.
func TestGlobalExtensionsOnlyInGlobalScripts(t *testing.T) {
	c := NewCompiler(sieve.Options{Settings: sieve.Settings{"sieve_global_extensions": "+editheader"}}, nil)
	text := []byte("require \"editheader\";\naddheader \"X-Global\" \"yes\";\n")
	if _, err := c.Load(Script{Name: "personal", Text: text}); err == nil {
		t.Errorf("a personal script may require a global extension")
	}
	if _, err := c.Load(Script{Name: "before", Text: text, Global: true}); err != nil {
		t.Errorf("a global script may not require a global extension: %v", err)
	}
	dir := t.TempDir()
	writeFiles(t, dir, map[string]string{"before.sieve": string(text), "example.com/bob.sieve": string(text)})
	got, err := Layered{Before: Files{filepath.Join(dir, "before.sieve")}, Personal: DirSource(dir)}.Scripts(context.Background(), "bob@example.com")
	if err != nil || len(got) != 2 || !got[0].Global || got[1].Global {
		t.Fatalf("Layered: %+v, %v; want the before script global and the personal one not", got, err)
	}
}
