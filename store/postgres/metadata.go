package postgres

import (
	"errors"
	"fmt"
	"strings"

	"github.com/jackc/pgx/v5"

	"github.com/vacationd/vacationd/store"
)

var _ store.Metadata = (*DB)(nil)

// SetMetadata sets an entry.
func (db *DB) SetMetadata(user, mailbox, entry, value string) error {
	if err := store.CheckMetadata(user, mailbox, entry, value); err != nil {
		return err
	}
	ctx, cancel, err := db.op()
	if err != nil {
		return err
	}
	defer cancel()
	_, err = db.pool.Exec(ctx, `INSERT INTO metadata (usr, mailbox, entry, value) VALUES ($1, $2, $3, $4)
		ON CONFLICT (usr, mailbox, entry) DO UPDATE SET value = excluded.value`,
		by(strings.ToLower(user)), by(mailbox), by(strings.ToLower(entry)), by(value))
	if err != nil {
		return fmt.Errorf("set metadata %q for %q: %w", entry, user, err)
	}
	return nil
}

// DeleteMetadata removes an entry (no error when it is not set).
func (db *DB) DeleteMetadata(user, mailbox, entry string) error {
	if err := store.CheckMetadata(user, mailbox, entry); err != nil {
		return err
	}
	ctx, cancel, err := db.op()
	if err != nil {
		return err
	}
	defer cancel()
	_, err = db.pool.Exec(ctx, `DELETE FROM metadata WHERE usr = $1 AND mailbox = $2 AND entry = $3`,
		by(strings.ToLower(user)), by(mailbox), by(strings.ToLower(entry)))
	if err != nil {
		return fmt.Errorf("delete metadata %q for %q: %w", entry, user, err)
	}
	return nil
}

// GetMetadata reads an entry.
func (db *DB) GetMetadata(user, mailbox, entry string) (string, bool, error) {
	if err := store.CheckMetadata(user, mailbox, entry); err != nil {
		return "", false, err
	}
	ctx, cancel, err := db.op()
	if err != nil {
		return "", false, err
	}
	defer cancel()
	var v []byte
	err = db.pool.QueryRow(ctx, `SELECT value FROM metadata WHERE usr = $1 AND mailbox = $2 AND entry = $3`,
		by(strings.ToLower(user)), by(mailbox), by(strings.ToLower(entry))).Scan(&v)
	switch {
	case errors.Is(err, pgx.ErrNoRows):
		return "", false, nil
	case err != nil:
		return "", false, fmt.Errorf("get metadata %q for %q: %w", entry, user, err)
	}
	return string(v), true, nil
}

// ListMetadata lists a user's entries, sorted by mailbox and entry.
func (db *DB) ListMetadata(user string) ([]store.MetadataEntry, error) {
	if err := store.CheckScriptUser(user); err != nil {
		return nil, err
	}
	ctx, cancel, err := db.op()
	if err != nil {
		return nil, err
	}
	defer cancel()
	u := strings.ToLower(user)
	rows, err := db.pool.Query(ctx, `SELECT mailbox, entry, value FROM metadata WHERE usr = $1 ORDER BY mailbox, entry`, by(u))
	if err != nil {
		return nil, fmt.Errorf("list metadata for %q: %w", user, err)
	}
	return pgx.CollectRows(rows, func(row pgx.CollectableRow) (store.MetadataEntry, error) {
		var box, entry, value []byte
		err := row.Scan(&box, &entry, &value)
		return store.MetadataEntry{User: u, Mailbox: string(box), Entry: string(entry), Value: string(value)}, err
	})
}
