package sources

import (
	"context"
	"testing"
	"time"

	"github.com/vacationd/vacationd/internal/peertest"
)

// TestDoveadm asks a real Dovecot, through its doveadm HTTP API, for a
// user's mailboxes and METADATA entries.
func TestDoveadm(t *testing.T) {
	dv := peertest.StartDoveadm(t, 10*time.Second)
	dv.Run(t, "mailbox", "create", "-u", "bob@example.com", "Archive")
	dv.Run(t, "mailbox", "metadata", "set", "-u", "bob@example.com", "INBOX", "/private/vacation", "on")
	ctx := context.Background()
	d := &Doveadm{URL: dv.URL, APIKey: dv.APIKey}
	m, err := d.Mailboxes(ctx, "bob@example.com")
	if err != nil {
		t.Fatal(err)
	}
	if !m.MailboxExists("Archive") || !m.MailboxExists("inbox") || m.MailboxExists("Nope") {
		t.Errorf("mailboxes: %v", m)
	}
	if m, err := d.Mailboxes(ctx, "eve@example.com"); err != nil || len(m) != 0 || !m.MailboxExists("INBOX") {
		t.Errorf("unknown user: %v %v, want only INBOX", m, err)
	}
	if v, ok, err := d.Metadata(ctx, "bob@example.com", "INBOX", "/private/vacation"); v != "on" || !ok || err != nil {
		t.Errorf("metadata: %q %v %v", v, ok, err)
	}
	if _, ok, err := d.Metadata(ctx, "bob@example.com", "INBOX", "/private/other"); ok || err != nil {
		t.Errorf("unset metadata: %v %v", ok, err)
	}
	if _, err := (&Doveadm{URL: dv.URL, APIKey: "wrong"}).Mailboxes(ctx, "bob@example.com"); err == nil {
		t.Error("a wrong API key was accepted")
	}
	us := &UserSources{Doveadm: d}
	boxes, err := us.Mailboxes("bob@example.com")
	if err != nil || !boxes.MailboxExists("Archive") {
		t.Errorf("UserSources: %v %v", boxes, err)
	}
	if v, ok, _ := us.UserMetadata("bob@example.com").Metadata("INBOX", "/private/vacation"); !ok || v != "on" {
		t.Errorf("UserSources metadata: %q %v", v, ok)
	}
	if _, err := (&Doveadm{URL: "http://127.0.0.1:1/doveadm/v1"}).Mailboxes(ctx, "bob@example.com"); err == nil {
		t.Error("no Dovecot answered, and no error")
	}
}
