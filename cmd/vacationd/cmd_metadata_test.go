package main

import (
	"path/filepath"
	"strings"
	"testing"

	"github.com/vacationd/vacationd/store"
)

func TestMetadataCommand(t *testing.T) {
	dir := t.TempDir()
	db, err := store.Open(filepath.Join(dir, "vacationd.db"), store.Options{NoSync: true})
	if err != nil {
		t.Fatal(err)
	}
	db.Close()
	data := "--data=" + dir
	if rc, _, errs := runCLI(t, "metadata", "set", data, "bob@example.com", "INBOX", "/private/vacation", "on"); rc != 0 {
		t.Fatalf("set: %d %s", rc, errs)
	}
	if rc, out, _ := runCLI(t, "metadata", "get", data, "bob@example.com", "INBOX", "/private/vacation"); rc != 0 || out != "on\n" {
		t.Errorf("get: %d %q", rc, out)
	}
	if rc, out, _ := runCLI(t, "metadata", "list", data, "bob@example.com"); rc != 0 || !strings.Contains(out, "INBOX    /private/vacation  on") {
		t.Errorf("list: %d %q", rc, out)
	}
	if rc, _, errs := runCLI(t, "metadata", "set", data, "bob@example.com", "INBOX", "frop", "x"); rc != 2 || !strings.Contains(errs, "must begin with '/'") {
		t.Errorf("invalid entry: %d %s", rc, errs)
	}
	if rc, _, _ := runCLI(t, "metadata", "delete", data, "bob@example.com", "INBOX", "/private/vacation"); rc != 0 {
		t.Errorf("delete: %d", rc)
	}
	if rc, _, errs := runCLI(t, "metadata", "get", data, "bob@example.com", "INBOX", "/private/vacation"); rc != 1 || !strings.Contains(errs, "not set") {
		t.Errorf("get after delete: %d %s", rc, errs)
	}
}
