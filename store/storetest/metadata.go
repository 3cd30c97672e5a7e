package storetest

import (
	"testing"

	"github.com/vacationd/vacationd/store"
)

// testMetadata: METADATA entries are kept per user, mailbox and entry
// (the entry name case-insensitively), absent until set, gone once
// deleted, and seen by replicas.
func testMetadata(t *testing.T, b Backend) {
	s := b.New(t)
	db, ok := s.(store.Metadata)
	if !ok {
		t.Skip("the backend keeps no metadata")
	}
	rep := b.replica(t, s).(store.Metadata)
	if _, ok, err := db.GetMetadata("bob@example.com", "INBOX", "/private/comment"); ok || err != nil {
		t.Fatalf("unset entry: %v %v", ok, err)
	}
	if err := db.SetMetadata("Bob@example.com", "INBOX", "/private/Comment", "away"); err != nil {
		t.Fatal(err)
	}
	if err := db.SetMetadata("bob@example.com", "", "/shared/admin", "mailto:root@example.com"); err != nil {
		t.Fatal(err)
	}
	if err := db.SetMetadata("bob@example.com", "INBOX", "/private/comment", "still away"); err != nil {
		t.Fatal(err)
	}
	if v, ok, _ := rep.GetMetadata("bob@example.com", "INBOX", "/private/comment"); !ok || v != "still away" {
		t.Errorf("get: %q %v", v, ok)
	}
	if _, ok, _ := db.GetMetadata("bob@example.com", "Sent", "/private/comment"); ok {
		t.Error("entry of INBOX read for Sent")
	}
	if _, ok, _ := db.GetMetadata("eve@example.com", "INBOX", "/private/comment"); ok {
		t.Error("entry of bob read for eve")
	}
	list, err := db.ListMetadata("bob@example.com")
	if err != nil || len(list) != 2 || list[0].Mailbox != "" || list[1].Value != "still away" || list[1].Entry != "/private/comment" {
		t.Errorf("list: %+v %v", list, err)
	}
	if err := db.DeleteMetadata("bob@example.com", "INBOX", "/PRIVATE/comment"); err != nil {
		t.Fatal(err)
	}
	if _, ok, _ := db.GetMetadata("bob@example.com", "INBOX", "/private/comment"); ok {
		t.Error("deleted entry still set")
	}
	for _, bad := range [][4]string{{"", "INBOX", "/private/x", "v"}, {"bob@example.com", "IN\x00BOX", "/private/x", "v"},
		{"bob@example.com", "INBOX", "", "v"}, {"bob@example.com", "INBOX", "/private/x", string(make([]byte, 64<<10+1))}} {
		if err := db.SetMetadata(bad[0], bad[1], bad[2], bad[3]); err == nil {
			t.Errorf("SetMetadata(%q, %q, %q, %d bytes) accepted", bad[0], bad[1], bad[2], len(bad[3]))
		}
	}
}
