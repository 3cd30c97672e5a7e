package store

import "testing"

func TestMetadata(t *testing.T) {
	db := openTest(t)
	if _, ok, err := db.GetMetadata("bob@example.com", "INBOX", "/private/comment"); ok || err != nil {
		t.Fatalf("unset entry: %v %v", ok, err)
	}
	if err := db.SetMetadata("Bob@example.com", "INBOX", "/private/Comment", "away"); err != nil {
		t.Fatal(err)
	}
	if err := db.SetMetadata("bob@example.com", "", "/shared/admin", "mailto:root@example.com"); err != nil {
		t.Fatal(err)
	}
	if v, ok, _ := db.GetMetadata("bob@example.com", "INBOX", "/private/comment"); !ok || v != "away" {
		t.Errorf("get: %q %v", v, ok)
	}
	if _, ok, _ := db.GetMetadata("bob@example.com", "Sent", "/private/comment"); ok {
		t.Error("entry of INBOX read for Sent")
	}
	if _, ok, _ := db.GetMetadata("eve@example.com", "INBOX", "/private/comment"); ok {
		t.Error("entry of bob read for eve")
	}
	list, _ := db.ListMetadata("bob@example.com")
	if len(list) != 2 || list[0].Mailbox != "" || list[1].Value != "away" {
		t.Errorf("list: %+v", list)
	}
	if err := db.DeleteMetadata("bob@example.com", "INBOX", "/private/comment"); err != nil {
		t.Fatal(err)
	}
	if _, ok, _ := db.GetMetadata("bob@example.com", "INBOX", "/private/comment"); ok {
		t.Error("deleted entry still set")
	}
	if err := db.SetMetadata("", "INBOX", "/private/x", "v"); err == nil {
		t.Error("entry without a user stored")
	}
}
