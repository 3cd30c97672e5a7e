package storetest

import (
	"errors"
	"testing"

	"github.com/vacationd/vacationd/store"
)

func testScripts(t *testing.T, b Backend) {
	s := b.New(t)
	r := b.replica(t, s)
	const u = "Alice@Example.com"
	if _, err := s.ActiveScript(u); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("ActiveScript with none: %v", err)
	}
	for _, sc := range []struct{ name, src string }{{"vacation", "v1"}, {"filters", "f1"}, {"vacation", "v2"}} {
		if err := s.PutScript(u, sc.name, []byte(sc.src)); err != nil {
			t.Fatal(err)
		}
	}
	if err := s.PutScript("bob@example.com", "vacation", []byte("bob")); err != nil {
		t.Fatal(err)
	}
	if err := s.ActivateScript(u, "missing"); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("activate missing: %v", err)
	}
	if err := r.ActivateScript(u, "vacation"); err != nil {
		t.Fatal(err)
	}
	a, err := s.ActiveScript("alice@example.com")
	if err != nil || a.Name != "vacation" || string(a.Source) != "v2" || !a.Active || a.User != "alice@example.com" || a.Updated.IsZero() {
		t.Errorf("ActiveScript = %+v, %v", a, err)
	}
	list, err := r.ListScripts(u)
	if err != nil || len(list) != 2 || list[0].Name != "filters" || list[0].Active || list[1].Name != "vacation" || !list[1].Active {
		t.Errorf("ListScripts = %+v, %v", list, err)
	}
	if err := s.PutScript(u, "vacation", []byte("v3")); err != nil {
		t.Fatal(err)
	}
	if a, err := r.ActiveScript(u); err != nil || string(a.Source) != "v3" {
		t.Errorf("replacing the active script: %+v, %v; want it active with v3", a, err)
	}
	if err := s.DeleteScript(u, "vacation"); !errors.Is(err, store.ErrActive) {
		t.Errorf("delete active: %v, want ErrActive", err)
	}
	if err := s.ActivateScript(u, "filters"); err != nil {
		t.Fatal(err)
	}
	if err := r.DeleteScript(u, "vacation"); err != nil {
		t.Fatal(err)
	}
	if _, err := s.GetScript(u, "vacation"); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("get deleted: %v", err)
	}
	if err := s.DeleteScript(u, "vacation"); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("delete twice: %v", err)
	}
	if err := s.ActivateScript(u, ""); err != nil {
		t.Fatal(err)
	}
	if _, err := s.ActiveScript(u); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("ActiveScript after deactivate: %v", err)
	}
	if sc, err := s.GetScript("bob@example.com", "vacation"); err != nil || string(sc.Source) != "bob" || sc.Active {
		t.Errorf("bob's script = %+v, %v", sc, err)
	}
	for _, bad := range []struct{ user, name string }{{"", "x"}, {"u", ""}, {"u", "a\nb"}, {"u\x00", "x"}} {
		if err := s.PutScript(bad.user, bad.name, []byte("x")); !errors.Is(err, store.ErrInvalid) {
			t.Errorf("PutScript(%q, %q): %v, want ErrInvalid", bad.user, bad.name, err)
		}
	}
}

func testRenameScript(t *testing.T, b Backend) {
	s := b.New(t)
	r := b.replica(t, s)
	const u = "carol@example.com"
	for _, n := range []string{"a", "b"} {
		if err := s.PutScript(u, n, []byte("src "+n)); err != nil {
			t.Fatal(err)
		}
	}
	if err := s.ActivateScript(u, "a"); err != nil {
		t.Fatal(err)
	}
	before, err := s.GetScript(u, "a")
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		from, to string
		want     error
	}{
		{"missing", "c", store.ErrNotFound},
		{"a", "b", store.ErrExists},
		{"a", "", store.ErrInvalid},
		{"a", "a", nil},
	} {
		if err := s.RenameScript(u, tc.from, tc.to); !errors.Is(err, tc.want) {
			t.Errorf("RenameScript(%q, %q) = %v, want %v", tc.from, tc.to, err, tc.want)
		}
	}
	if err := s.RenameScript(u, "a", "c"); err != nil {
		t.Fatal(err)
	}
	if _, err := r.GetScript(u, "a"); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("old name after rename: %v", err)
	}
	got, err := r.ActiveScript(u)
	if err != nil || got.Name != "c" || string(got.Source) != "src a" || !got.Updated.Equal(before.Updated) {
		t.Errorf("active after rename = %+v, %v; want c with a's source and time", got, err)
	}
	if err := r.RenameScript(u, "b", "d"); err != nil {
		t.Fatal(err)
	}
	if a, _ := s.ActiveScript(u); a.Name != "c" {
		t.Errorf("renaming an inactive script moved the active one to %q", a.Name)
	}
	if list, _ := s.ListScripts(u); len(list) != 2 || list[0].Name != "c" || list[1].Name != "d" {
		t.Errorf("ListScripts after renames = %+v", list)
	}
}
