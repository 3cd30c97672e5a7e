package sieve

import (
	"context"
	"testing"
)

type mailboxSet map[string]bool

func (m mailboxSet) MailboxExists(name string) bool { return m[name] }

func TestMailboxExists(t *testing.T) {
	boxes := mailboxSet{"a": true, "b": true}
	tests := []struct {
		names string
		env   MailboxChecker
		want  bool
	}{
		{`"a"`, boxes, true},
		{`["a", "b"]`, boxes, true},
		{`["a", "c"]`, boxes, false},
		{`"c"`, boxes, false},
		{`"${hex:ff}"`, boxes, false},
		{`"c"`, nil, false},    // no mailbox source: nothing exists, the :create branch runs
		{`"inbox"`, nil, true}, // but INBOX always does
	}
	for _, tc := range tests {
		res := flagsTestRun(t, `require ["mailbox", "encoded-character"]; if mailboxexists `+tc.names+` { discard; }`, &Env{Mailboxes: tc.env})
		if got := !res.ImplicitKeep; got != tc.want {
			t.Errorf("mailboxexists %s = %v, want %v", tc.names, got, tc.want)
		}
	}
}

func TestFileintoCreate(t *testing.T) {
	res := flagsTestRun(t, `require ["mailbox", "fileinto"]; fileinto :create "new"; fileinto "old";`, nil)
	if len(res.Actions) != 2 || !res.Actions[0].(*FileInto).Create || res.Actions[1].(*FileInto).Create {
		t.Errorf("actions = %v, want :create only on the first", res.Actions)
	}
	if _, err := Compile("t", []byte(`require "fileinto"; fileinto :create "x";`), nil); err == nil {
		t.Error(":create without mailbox compiled")
	}
}

// suBoxes is a mailbox source with special uses.
type suBoxes map[string][]string

func (m suBoxes) MailboxExists(name string) bool         { _, ok := m[name]; return ok }
func (m suBoxes) MailboxSpecialUse(name string) []string { return m[name] }
func (m suBoxes) SpecialUseMailbox(flag string) (string, bool) {
	for box, flags := range m {
		for _, f := range flags {
			if f == flag {
				return box, true
			}
		}
	}
	return "", false
}

func TestSpecialUseExists(t *testing.T) {
	boxes := suBoxes{"INBOX": nil, "Spam": {`\Junk`}, "Sent Items": {`\Sent`}}
	tests := []struct {
		args string
		env  MailboxChecker
		want bool
	}{
		{`"\\Junk"`, boxes, true},
		{`["\\Junk", "\\Sent"]`, boxes, true},
		{`"\\Trash"`, boxes, false},
		{`"Spam" "\\Junk"`, boxes, true},
		{`"INBOX" "\\Junk"`, boxes, false},
		{`"Nope" "\\Junk"`, boxes, false},
		{`"\\Junk"`, nil, false},
		{`"\\Junk"`, mailboxSet{"Spam": true}, false},
	}
	for _, tc := range tests {
		res := extTestRun(t, "+special-use", `require "special-use"; if specialuse_exists `+tc.args+` { discard; }`, &Env{Mailboxes: tc.env})
		if got := !res.ImplicitKeep; got != tc.want {
			t.Errorf("specialuse_exists %s = %v, want %v", tc.args, got, tc.want)
		}
	}
	res := extTestRun(t, "+special-use", `require ["special-use", "fileinto"]; fileinto :specialuse "\\Junk" "Spam";`, &Env{})
	if f := res.Actions[0].(*FileInto); f.SpecialUse != `\Junk` || f.Mailbox != "Spam" {
		t.Errorf("fileinto :specialuse = %+v", f)
	}
}

type metaMap map[[2]string]string

func (m metaMap) Metadata(box, entry string) (string, bool, error) {
	v, ok := m[[2]string{box, entry}]
	return v, ok, nil
}

func TestMetadata(t *testing.T) {
	md := metaMap{{"INBOX", "/private/comment"}: "away", {"", "/shared/admin"}: "mailto:root@example.com"}
	tests := []struct {
		test string
		env  MetadataSource
		want bool
	}{
		{`metadata "INBOX" "/private/comment" "away"`, md, true},
		{`metadata :contains "INBOX" "/private/comment" "wa"`, md, true},
		{`metadata "INBOX" "/private/other" ""`, md, false},
		{`metadataexists "INBOX" ["/private/comment"]`, md, true},
		{`metadataexists "INBOX" ["/private/comment", "/private/x"]`, md, false},
		{`metadataexists "INBOX" ["/comment"]`, md, false},
		{`servermetadata :matches "/shared/admin" "mailto:*"`, md, true},
		{`servermetadataexists "/shared/admin"`, md, true},
		{`servermetadataexists "/shared/admin"`, nil, false},
	}
	for _, tc := range tests {
		res := extTestRun(t, "+mboxmetadata +servermetadata", `require ["mboxmetadata", "servermetadata"]; if `+tc.test+` { discard; }`, &Env{Metadata: tc.env})
		if got := !res.ImplicitKeep; got != tc.want {
			t.Errorf("%s = %v, want %v", tc.test, got, tc.want)
		}
	}
}

// extTestRun runs src with the extensions exts enabled.
func extTestRun(t *testing.T, exts, src string, env *Env) *Result {
	t.Helper()
	s, err := Compile("test", []byte(src), &Options{Extensions: exts})
	if err != nil {
		t.Fatalf("compile: %v", err)
	}
	if env.Message == nil {
		env.Message = ParseMessage([]byte("From: a@example.com\r\nSubject: hi\r\n\r\nbody\r\n"))
	}
	res, err := s.Run(context.Background(), env)
	if err != nil {
		t.Fatalf("run: %v", err)
	}
	return res
}
