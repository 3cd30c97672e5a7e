package sieve

import "strings"

// mboxmetadata and servermetadata (RFC 5490): the metadata,
// metadataexists, servermetadata and servermetadataexists tests read IMAP
// METADATA entries (RFC 5464) from Env.Metadata. Without a source, or for
// an entry that was never set, an entry is absent. Off by default, as in
// Pigeonhole.

// MetadataSource answers the metadata tests.
type MetadataSource interface {
	// Metadata returns the value of entry (e.g. "/private/comment") of
	// the mailbox, or of the server when mailbox is ""; ok is false when
	// the entry is not set.
	Metadata(mailbox, entry string) (value string, ok bool, err error)
}

func mboxMetadataExtension() *extension {
	return &extension{name: "mboxmetadata", specs: []*spec{
		{
			name: "metadata", test: true, match: true,
			args: []argType{tString, tString, tStringList}, argNames: []string{"mailbox", "annotation-name", "key-list"},
			check: checkMetadata(true), eval: evalMetadata(true),
		},
		{
			name: "metadataexists", test: true,
			args: []argType{tString, tStringList}, argNames: []string{"mailbox", "annotation-names"},
			check: checkMetadata(true), eval: evalMetadataExists(true),
		},
	}}
}

func serverMetadataExtension() *extension {
	return &extension{name: "servermetadata", specs: []*spec{
		{
			name: "servermetadata", test: true, match: true,
			args: []argType{tString, tStringList}, argNames: []string{"annotation-name", "key-list"},
			check: checkMetadata(false), eval: evalMetadata(false),
		},
		{
			name: "servermetadataexists", test: true,
			args: []argType{tStringList}, argNames: []string{"annotation-names"},
			check: checkMetadata(false), eval: evalMetadataExists(false),
		},
	}}
}

// MetadataEntryProblem says why name is no valid METADATA entry name, as
// Dovecot's imap_metadata_verify_entry_name does; "" when it is valid.
func MetadataEntryProblem(name string) string { return metadataEntryProblem(name) }

func metadataEntryProblem(name string) string {
	if name == "" || name[0] != '/' {
		return "entry name must begin with '/'"
	}
	for i := 0; i < len(name); i++ {
		switch c := name[i]; {
		case c < 0x20 || c == 0x7f || c == '*' || c == '%':
			return "entry name has invalid character"
		case c == '/' && i > 0 && name[i-1] == '/':
			return "entry name can't contain consecutive '/'"
		}
	}
	if name[len(name)-1] == '/' {
		return "entry name can't end with '/'"
	}
	low := strings.ToLower(name)
	if !strings.HasPrefix(low, "/private/") && !strings.HasPrefix(low, "/shared/") {
		return "entry name must begin with /private or /shared"
	}
	return ""
}

// checkMetadata warns about literal invalid mailbox and entry names.
func checkMetadata(mbox bool) func(c *checker, n *node) {
	return func(c *checker, n *node) {
		args := n.args
		if mbox {
			if s := args[0].strs[0]; s.parts == nil && !validMailboxName(s.lit) {
				c.warnf(s.pos, "%s test: invalid mailbox name '%s' specified: %s", n.spec.name, sanitize(strings.ToValidUTF8(s.lit, "?"), 256), mailboxNameProblem(s.lit))
			}
			args = args[1:]
		}
		for _, s := range args[0].strs {
			if s.parts != nil {
				continue
			}
			if why := metadataEntryProblem(s.lit); why != "" {
				c.warnf(s.pos, "%s test: specified annotation name '%s' is invalid: %s", n.spec.name, sanitize(s.lit, 256), why)
			}
		}
	}
}

// metadataMailbox reads the mailbox argument; ok is false (with a
// warning) when the name is invalid.
func (r *run) metadataMailbox(n *node, mbox bool) (string, []*value, bool) {
	if !mbox {
		return "", n.args, true
	}
	box := r.string(n.args[0])
	if !validMailboxName(box) {
		r.warnf(n.pos, "%s test: invalid mailbox name '%s' specified: %s", n.spec.name, sanitize(strings.ToValidUTF8(box, "?"), 256), mailboxNameProblem(box))
		return "", nil, false
	}
	return box, n.args[1:], true
}

// metadataValue reads one entry; invalid names read as absent.
func (r *run) metadataValue(n *node, box, entry string) (string, bool, error) {
	if why := metadataEntryProblem(entry); why != "" {
		r.warnf(n.pos, "%s test: specified annotation name '%s' is invalid: %s", n.spec.name, sanitize(entry, 256), why)
		return "", false, nil
	}
	if r.env.Metadata == nil {
		return "", false, nil
	}
	v, ok, err := r.env.Metadata.Metadata(box, entry)
	if err != nil {
		return "", false, r.errorf(n.pos, "%s test: failed to retrieve annotation '%s': %v", n.spec.name, sanitize(entry, 256), err)
	}
	return v, ok, nil
}

func evalMetadata(mbox bool) func(r *run, n *node) (bool, error) {
	return func(r *run, n *node) (bool, error) {
		box, args, ok := r.metadataMailbox(n, mbox)
		if !ok {
			return false, nil
		}
		v, ok, err := r.metadataValue(n, box, r.string(args[0]))
		if err != nil || !ok {
			return false, err
		}
		return r.match(n, []string{v}, r.strings(args[1]))
	}
}

func evalMetadataExists(mbox bool) func(r *run, n *node) (bool, error) {
	return func(r *run, n *node) (bool, error) {
		box, args, ok := r.metadataMailbox(n, mbox)
		if !ok {
			return false, nil
		}
		for _, entry := range r.strings(args[0]) {
			_, ok, err := r.metadataValue(n, box, entry)
			if err != nil || !ok {
				return false, err
			}
		}
		return true, nil
	}
}
