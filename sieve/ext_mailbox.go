package sieve

import "strings"

// mailbox (RFC 5490): the mailboxexists test. The :create tag of fileinto
// is declared on fileinto (ext_basic.go) and recorded in FileInto.Create.
func mailboxExtension() *extension {
	return &extension{name: "mailbox", specs: []*spec{{
		name: "mailboxexists", test: true,
		args: []argType{tStringList}, argNames: []string{"mailbox-names"},
		eval: evalMailboxExists,
	}}}
}

// evalMailboxExists is true when every named mailbox exists. Like
// Pigeonhole without a mail user, it is true when the environment has no
// mailbox checker; a name that is not valid UTF-8 is a warning and makes
// the test false.
func evalMailboxExists(r *run, n *node) (bool, error) {
	names := r.strings(n.args[0])
	if r.env.Mailboxes == nil {
		return true, nil
	}
	for _, name := range names {
		if !validMailboxName(name) {
			r.warnf(n.pos, "mailboxexists test: invalid mailbox name '%s' specified", strings.ToValidUTF8(name, "?"))
			return false, nil
		}
		if !r.env.Mailboxes.MailboxExists(name) {
			return false, nil
		}
	}
	return true, nil
}
