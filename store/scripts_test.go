package store

import (
	"errors"
	"testing"
)

func TestScripts(t *testing.T) {
	db := openTest(t)
	const u = "Alice@Example.com"
	if _, err := db.ActiveScript(u); !errors.Is(err, ErrNotFound) {
		t.Errorf("ActiveScript with none: %v", err)
	}
	for _, s := range []struct{ name, src string }{{"vacation", "v1"}, {"filters", "f1"}, {"vacation", "v2"}} {
		if err := db.PutScript(u, s.name, []byte(s.src)); err != nil {
			t.Fatal(err)
		}
	}
	if err := db.PutScript("bob@example.com", "vacation", []byte("bob")); err != nil {
		t.Fatal(err)
	}
	if err := db.ActivateScript(u, "missing"); !errors.Is(err, ErrNotFound) {
		t.Errorf("activate missing: %v", err)
	}
	if err := db.ActivateScript(u, "vacation"); err != nil {
		t.Fatal(err)
	}
	a, err := db.ActiveScript("alice@example.com")
	if err != nil || a.Name != "vacation" || string(a.Source) != "v2" || !a.Active || a.User != "alice@example.com" || a.Updated.IsZero() {
		t.Errorf("ActiveScript = %+v, %v", a, err)
	}
	list, err := db.ListScripts(u)
	if err != nil || len(list) != 2 || list[0].Name != "filters" || list[0].Active || list[1].Name != "vacation" || !list[1].Active {
		t.Errorf("ListScripts = %+v, %v", list, err)
	}
	if err := db.DeleteScript(u, "vacation"); !errors.Is(err, ErrActive) {
		t.Errorf("delete active: %v", err)
	}
	if err := db.ActivateScript(u, "filters"); err != nil {
		t.Fatal(err)
	}
	if err := db.DeleteScript(u, "vacation"); err != nil {
		t.Fatal(err)
	}
	if _, err := db.GetScript(u, "vacation"); !errors.Is(err, ErrNotFound) {
		t.Errorf("get deleted: %v", err)
	}
	if err := db.DeleteScript(u, "vacation"); !errors.Is(err, ErrNotFound) {
		t.Errorf("delete twice: %v", err)
	}
	if err := db.ActivateScript(u, ""); err != nil {
		t.Fatal(err)
	}
	if _, err := db.ActiveScript(u); !errors.Is(err, ErrNotFound) {
		t.Errorf("ActiveScript after deactivate: %v", err)
	}
	if s, err := db.GetScript("bob@example.com", "vacation"); err != nil || string(s.Source) != "bob" || s.Active {
		t.Errorf("bob's script = %+v, %v", s, err)
	}
	for _, bad := range []struct{ user, name string }{{"", "x"}, {"u", ""}, {"u", "a\nb"}, {"u\x00", "x"}} {
		if err := db.PutScript(bad.user, bad.name, nil); !errors.Is(err, ErrInvalid) {
			t.Errorf("PutScript(%q, %q) err = %v, want ErrInvalid", bad.user, bad.name, err)
		}
	}
}
