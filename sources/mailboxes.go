package sources

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"

	"github.com/vacationd/vacationd/sieve"
	"github.com/vacationd/vacationd/store"
)

// Mailboxes is a user's mailboxes and their special-use flags; it
// implements sieve.MailboxChecker and sieve.SpecialUseChecker. INBOX
// always exists.
type Mailboxes map[string][]string

// MailboxExists reports whether the mailbox exists (INBOX in any case).
func (m Mailboxes) MailboxExists(name string) bool {
	if strings.EqualFold(name, "INBOX") {
		return true
	}
	_, ok := m[name]
	return ok
}

// MailboxSpecialUse returns the special-use flags of a mailbox.
func (m Mailboxes) MailboxSpecialUse(name string) []string { return m[name] }

// SpecialUseMailbox returns a mailbox with the flag.
func (m Mailboxes) SpecialUseMailbox(flag string) (string, bool) {
	for box, flags := range m {
		for _, f := range flags {
			if strings.EqualFold(f, flag) {
				return box, true
			}
		}
	}
	return "", false
}

// ReadMailboxes reads a mailbox list: one mailbox a line, its special-use
// flags after a tab ("Junk<TAB>\Junk"); blank lines and lines starting
// with '#' are skipped.
func ReadMailboxes(b []byte) (Mailboxes, error) {
	out := Mailboxes{}
	sc := bufio.NewScanner(bytes.NewReader(b))
	for n := 1; sc.Scan(); n++ {
		line := strings.TrimRight(sc.Text(), "\r ")
		if strings.TrimSpace(line) == "" || strings.HasPrefix(line, "#") {
			continue
		}
		name, flags, _ := strings.Cut(line, "\t")
		if name == "" {
			return nil, fmt.Errorf("line %d: empty mailbox name", n)
		}
		for _, f := range strings.Fields(flags) {
			if !strings.HasPrefix(f, `\`) {
				return nil, fmt.Errorf("line %d: special-use flag %q does not start with '\\'", n, f)
			}
		}
		out[name] = strings.Fields(flags)
	}
	return out, sc.Err()
}

// UserSources answers the engine's questions about a user from files,
// Dovecot and the store: Doveadm, when set, gives the user's mailboxes and
// their METADATA entries; else MailboxDir/USER lists the mailboxes
// (ReadMailboxes; no file: only INBOX). Lists are the external lists
// (shared by all users); Metadata holds the other METADATA entries (the
// server's, and the mailboxes' without Doveadm). Empty fields answer
// "none".
type UserSources struct {
	MailboxDir string
	Doveadm    *Doveadm
	Lists      sieve.ListSource
	Metadata   store.Metadata
}

// Mailboxes reads the user's mailbox list; an unreadable file is an error
// the delivery is retried for.
func (s *UserSources) Mailboxes(user string) (sieve.MailboxChecker, error) {
	if s.Doveadm != nil {
		m, err := s.Doveadm.Mailboxes(context.Background(), user)
		if err != nil {
			return nil, fmt.Errorf("mailboxes of %s: %w", user, err)
		}
		return m, nil
	}
	if s.MailboxDir == "" {
		return nil, nil
	}
	if user == "" || strings.ContainsAny(user, "/\\\x00") || strings.HasPrefix(user, ".") {
		return Mailboxes{}, nil
	}
	b, err := os.ReadFile(filepath.Join(s.MailboxDir, strings.ToLower(user)))
	if errors.Is(err, fs.ErrNotExist) {
		return Mailboxes{}, nil
	}
	if err != nil {
		return nil, fmt.Errorf("mailboxes of %s: %w", user, err)
	}
	m, err := ReadMailboxes(b)
	if err != nil {
		return nil, fmt.Errorf("mailboxes of %s: %w", user, err)
	}
	return m, nil
}

// UserMetadata returns the user's METADATA entries.
func (s *UserSources) UserMetadata(user string) sieve.MetadataSource {
	if s.Metadata == nil && s.Doveadm == nil {
		return nil
	}
	return userMetadata{s.Metadata, s.Doveadm, user}
}

// UserLists returns the external lists.
func (s *UserSources) UserLists(string) sieve.ListSource { return s.Lists }

type userMetadata struct {
	st   store.Metadata
	dove *Doveadm
	user string
}

func (u userMetadata) Metadata(mailbox, entry string) (string, bool, error) {
	if u.dove != nil && mailbox != "" {
		return u.dove.Metadata(context.Background(), u.user, mailbox, entry)
	}
	if u.st == nil {
		return "", false, nil
	}
	return u.st.GetMetadata(u.user, mailbox, entry)
}
