package sieve

import "testing"

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
		{`"c"`, nil, true}, // no mail store: true, as Pigeonhole without a user
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
