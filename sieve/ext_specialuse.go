package sieve

import "strings"

// special-use (RFC 8579): the specialuse_exists test and fileinto's
// :specialuse tag. Mailboxes and their special uses come from
// Env.Mailboxes when it also implements [SpecialUseChecker]; without one,
// no mailbox has a special use (and :specialuse files into the named
// mailbox). Off by default, as in Pigeonhole.

// SpecialUseChecker answers special-use questions about the user's
// mailboxes. A MailboxChecker may implement it.
type SpecialUseChecker interface {
	// SpecialUseMailbox returns the mailbox that has the special-use flag
	// (e.g. `\Junk`), if one has.
	SpecialUseMailbox(flag string) (string, bool)
	// MailboxSpecialUse returns the special-use flags of a mailbox.
	MailboxSpecialUse(name string) []string
}

func specialUseExtension() *extension {
	return &extension{name: "special-use", specs: []*spec{{
		name: "specialuse_exists", test: true,
		args: []argType{tStringList, tStringList}, optArg: 1,
		argNames: []string{"mailbox", "special-use flags"},
		check:    checkSpecialUseExists, eval: evalSpecialUseExists,
	}}}
}

// validSpecialUseFlag reports whether flag is "\" followed by an atom
// (RFC 6154 §6).
func validSpecialUseFlag(flag string) bool {
	if len(flag) < 2 || flag[0] != '\\' {
		return false
	}
	for i := 1; i < len(flag); i++ {
		if !isIMAPAtomChar(flag[i]) {
			return false
		}
	}
	return true
}

// isIMAPAtomChar reports the characters of an IMAP atom (RFC 3501).
func isIMAPAtomChar(c byte) bool {
	return c > 0x20 && c < 0x7f && strings.IndexByte(`(){%*"\]`, c) < 0
}

// specialUseArgs splits specialuse_exists's arguments: an optional mailbox
// and the flags.
func specialUseArgs(n *node) (box *value, flags *value) {
	if len(n.args) == 2 {
		return n.args[0], n.args[1]
	}
	return nil, n.args[0]
}

func checkSpecialUseExists(c *checker, n *node) {
	box, flags := specialUseArgs(n)
	if box != nil {
		if box.list {
			c.errorf(box.pos, "the specialuse_exists test expects a string (mailbox) as first argument when two arguments are specified, but a string list was found")
			return
		}
		if s := box.strs[0]; s.parts == nil && !validMailboxName(s.lit) {
			c.warnf(s.pos, "specialuse_exists test: invalid mailbox name '%s' specified: %s", sanitize(strings.ToValidUTF8(s.lit, "?"), 256), mailboxNameProblem(s.lit))
		}
	}
	for _, s := range flags.strs {
		if s.parts == nil && !validSpecialUseFlag(s.lit) {
			c.errorf(s.pos, "specialuse_exists test: invalid special-use flag '%s' specified", sanitize(s.lit, 64))
		}
	}
}

func evalSpecialUseExists(r *run, n *node) (bool, error) {
	boxArg, flagArg := specialUseArgs(n)
	flags := r.strings(flagArg)
	for _, f := range flags {
		if !validSpecialUseFlag(f) {
			r.warnf(n.pos, "specialuse_exists test: invalid special-use flag '%s' specified", sanitize(f, 64))
			return false, nil
		}
	}
	su, _ := r.env.Mailboxes.(SpecialUseChecker)
	if boxArg == nil {
		for _, f := range flags {
			if su == nil {
				return false, nil
			}
			if _, ok := su.SpecialUseMailbox(f); !ok {
				return false, nil
			}
		}
		return true, nil
	}
	box := r.string(boxArg)
	if !validMailboxName(box) {
		r.warnf(n.pos, "specialuse_exists test: invalid mailbox name '%s' specified: %s", sanitize(strings.ToValidUTF8(box, "?"), 256), mailboxNameProblem(box))
		return false, nil
	}
	if su == nil || !r.env.Mailboxes.MailboxExists(box) {
		return false, nil
	}
	have := su.MailboxSpecialUse(box)
	for _, f := range flags {
		found := false
		for _, h := range have {
			if strings.EqualFold(h, f) {
				found = true
				break
			}
		}
		if !found {
			return false, nil
		}
	}
	return true, nil
}
