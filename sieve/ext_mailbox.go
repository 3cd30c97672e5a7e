package sieve

import "strings"

// mailbox (RFC 5490): the mailboxexists test. The :create tag of fileinto
// is declared on fileinto (ext_basic.go) and recorded in FileInto.Create.
func mailboxExtension() *extension {
	return &extension{name: "mailbox", specs: []*spec{{
		name: "mailboxexists", test: true,
		args: []argType{tStringList}, argNames: []string{"mailbox-names"},
		check: func(c *checker, n *node) {
			for _, s := range n.args[0].strs {
				if s.parts == nil && !validMailboxName(s.lit) {
					c.warnf(s.pos, "mailboxexists test: invalid mailbox name '%s' specified: %s", sanitize(strings.ToValidUTF8(s.lit, "?"), 256), mailboxNameProblem(s.lit))
				}
			}
		},
		eval: evalMailboxExists,
	}}}
}

// evalMailboxExists is true when every named mailbox exists. Without a
// mailbox source only INBOX exists (so a script's "fileinto :create"
// branch is taken, as under Pigeonhole for a mailbox not yet created); a
// name that is not valid UTF-8 is a warning and makes the test false.
func evalMailboxExists(r *run, n *node) (bool, error) {
	names := r.strings(n.args[0])
	for _, name := range names {
		if !validMailboxName(name) {
			r.warnf(n.pos, "mailboxexists test: invalid mailbox name '%s' specified: %s", sanitize(strings.ToValidUTF8(name, "?"), 256), mailboxNameProblem(name))
			return false, nil
		}
		if r.env.Mailboxes == nil && !isInbox(name) || r.env.Mailboxes != nil && !r.env.Mailboxes.MailboxExists(name) {
			return false, nil
		}
	}
	return true, nil
}

// mailboxNameProblem says why validMailboxName rejects name.
func mailboxNameProblem(name string) string {
	switch {
	case name == "":
		return "empty name"
	case !utf8Valid(name):
		return "invalid utf-8"
	}
	return "contains control characters"
}
