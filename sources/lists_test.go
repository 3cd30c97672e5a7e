package sources

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/vacationd/vacationd/sieve"
)

func TestListsFromSettings(t *testing.T) {
	dir := t.TempDir()
	dict := "priv/sieve/extlists/Boss@example.com\n1\npriv/other/x@example.com\n1\n"
	if err := os.WriteFile(filepath.Join(dir, "book.dict"), []byte(dict), 0o644); err != nil {
		t.Fatal(err)
	}
	l, err := ListsFromSettings(sieve.Settings{
		"sieve_extlists_list":                                  ":addrbook:default :addrbook:empty :addrbook:broken",
		"sieve_extlists_list/:addrbook:default/dict":           "file",
		"sieve_extlists_list/:addrbook:default/dict/file/path": "book.dict",
		"sieve_extlists_list/:addrbook:broken/dict":            "file",
		"sieve_extlists_list/:addrbook:broken/dict/file/path":  "missing.dict",
	}, dir)
	if err != nil {
		t.Fatal(err)
	}
	def := "urn:ietf:params:sieve:addrbook:default"
	if !l.HasList(def) || !l.HasList("urn:ietf:params:sieve:addrbook:empty") || l.HasList("urn:ietf:params:sieve:addrbook:other") {
		t.Errorf("lists: %v", l)
	}
	for item, want := range map[string]bool{"Boss@example.com": true, "boss@example.com": false, "x@example.com": false} {
		if got, err := l.ListContains(def, item); got != want || err != nil {
			t.Errorf("%s in default: %v %v, want %v", item, got, err, want)
		}
	}
	if _, err := l.ListContains("urn:ietf:params:sieve:addrbook:broken", "a@b"); err == nil {
		t.Error("a list whose dict is missing answered")
	}
	if _, err := ListsFromSettings(sieve.Settings{"sieve_extlists_list": "frop:x"}, dir); err == nil {
		t.Error("an invalid list name was accepted")
	}
}

func TestListDir(t *testing.T) {
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "addrbook:family"), []byte("# family\nMum@Example.com\n\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	l, err := ListDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	if ok, _ := l.ListContains("urn:ietf:params:sieve:addrbook:family", "mum@example.COM"); !ok {
		t.Error("mum not found in the family list")
	}
	if ok, _ := l.ListContains("urn:ietf:params:sieve:addrbook:family", "# family"); ok {
		t.Error("a comment is an item")
	}
	if l, err := ListDir(filepath.Join(dir, "none")); err != nil || len(l) != 0 {
		t.Errorf("missing directory: %v %v", l, err)
	}
}
