package store

import (
	"bytes"
	"context"
	"fmt"
	"strings"

	bolt "go.etcd.io/bbolt"
)

// Metadata holds IMAP METADATA entries (RFC 5464) the mboxmetadata and
// servermetadata Sieve tests read: per user, per mailbox ("" for the
// server's entries), an entry name ("/private/..." or "/shared/...") and
// its value. An entry never set is absent. The operator sets them
// (serve's /metadata endpoint); the bbolt store keeps them.
type Metadata interface {
	SetMetadata(user, mailbox, entry, value string) error
	DeleteMetadata(user, mailbox, entry string) error
	// GetMetadata returns the value and whether the entry is set.
	GetMetadata(user, mailbox, entry string) (string, bool, error)
	ListMetadata(user string) ([]MetadataEntry, error)
}

// MetadataEntry is one stored entry.
type MetadataEntry struct {
	User, Mailbox, Entry, Value string
}

var (
	bucketMetadata          = []byte("metadata")
	_              Metadata = (*DB)(nil)
)

// maxMetadataValue bounds a stored value.
const maxMetadataValue = 64 << 10

// CheckMetadata validates the user, mailbox and entry name of a METADATA
// entry, and its value when one is given.
func CheckMetadata(user, mailbox, entry string, value ...string) error {
	if err := checkScriptUser(user); err != nil {
		return err
	}
	if strings.IndexByte(mailbox, 0) >= 0 || len(mailbox) > 1024 || entry == "" || strings.IndexByte(entry, 0) >= 0 || len(entry) > 1024 {
		return fmt.Errorf("metadata %q %q for %q: bad mailbox or entry name: %w", mailbox, entry, user, ErrInvalid)
	}
	for _, v := range value {
		if len(v) > maxMetadataValue {
			return fmt.Errorf("metadata %q for %q: value of %d bytes is too large: %w", entry, user, len(v), ErrInvalid)
		}
	}
	return nil
}

func metadataKey(user, mailbox, entry string) ([]byte, error) {
	if err := CheckMetadata(user, mailbox, entry); err != nil {
		return nil, err
	}
	k := make([]byte, 0, len(user)+len(mailbox)+len(entry)+2)
	k = append(k, strings.ToLower(user)...)
	k = append(k, 0)
	k = append(k, mailbox...)
	k = append(k, 0)
	// Entry names compare case-insensitively (RFC 5464 §3.2).
	return append(k, strings.ToLower(entry)...), nil
}

// SetMetadata sets an entry; durable when it returns.
func (db *DB) SetMetadata(user, mailbox, entry, value string) error {
	if err := CheckMetadata(user, mailbox, entry, value); err != nil {
		return err
	}
	key, err := metadataKey(user, mailbox, entry)
	if err != nil {
		return err
	}
	return db.w.do(context.Background(), func(tx *bolt.Tx) error {
		b, err := tx.CreateBucketIfNotExists(bucketMetadata)
		if err != nil {
			return err
		}
		return b.Put(key, []byte(value))
	})
}

// DeleteMetadata removes an entry (no error when it is not set).
func (db *DB) DeleteMetadata(user, mailbox, entry string) error {
	key, err := metadataKey(user, mailbox, entry)
	if err != nil {
		return err
	}
	return db.w.do(context.Background(), func(tx *bolt.Tx) error {
		if b := tx.Bucket(bucketMetadata); b != nil {
			return b.Delete(key)
		}
		return nil
	})
}

// GetMetadata reads an entry.
func (db *DB) GetMetadata(user, mailbox, entry string) (string, bool, error) {
	key, err := metadataKey(user, mailbox, entry)
	if err != nil {
		return "", false, err
	}
	var v []byte
	err = db.view(func(tx *bolt.Tx) error {
		if b := tx.Bucket(bucketMetadata); b != nil {
			v = bytes.Clone(b.Get(key))
		}
		return nil
	})
	return string(v), v != nil, err
}

// ListMetadata lists a user's entries, sorted by mailbox and entry.
func (db *DB) ListMetadata(user string) ([]MetadataEntry, error) {
	prefix := append([]byte(strings.ToLower(user)), 0)
	var out []MetadataEntry
	err := db.view(func(tx *bolt.Tx) error {
		b := tx.Bucket(bucketMetadata)
		if b == nil {
			return nil
		}
		c := b.Cursor()
		for k, v := c.Seek(prefix); k != nil && bytes.HasPrefix(k, prefix); k, v = c.Next() {
			box, entry, _ := bytes.Cut(k[len(prefix):], []byte{0})
			out = append(out, MetadataEntry{User: strings.ToLower(user), Mailbox: string(box), Entry: string(entry), Value: string(v)})
		}
		return nil
	})
	return out, err
}
