package postgres

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"

	"github.com/vacationd/vacationd/store"
)

// foreignKeyViolation is SQLSTATE 23503: scripts_active names a script
// that does not exist (activating a missing one, deleting the active one).
const foreignKeyViolation = "23503"

func isFKViolation(err error) bool {
	var pe *pgconn.PgError
	return errors.As(err, &pe) && pe.Code == foreignKeyViolation
}

const scriptColumns = `s.usr, s.name, s.source, s.updated, a.name IS NOT NULL`

func (db *DB) scripts(ctx context.Context, where string, args ...any) ([]store.Script, error) {
	rows, err := db.pool.Query(ctx, `SELECT `+scriptColumns+` FROM scripts s
		LEFT JOIN scripts_active a ON a.usr = s.usr AND a.name = s.name WHERE `+where+` ORDER BY s.name`, args...)
	if err != nil {
		return nil, err
	}
	return pgx.CollectRows(rows, func(row pgx.CollectableRow) (store.Script, error) {
		var (
			s          store.Script
			user, name []byte
			updated    int64
		)
		err := row.Scan(&user, &name, &s.Source, &updated, &s.Active)
		s.User, s.Name, s.Updated = string(user), string(name), store.NanoTime(updated)
		return s, err
	})
}

// PutScript stores source as user's script name, replacing one of that
// name (it stays active if it was).
func (db *DB) PutScript(user, name string, source []byte) error {
	if err := store.CheckScript(user, name); err != nil {
		return err
	}
	ctx, cancel, err := db.op()
	if err != nil {
		return err
	}
	defer cancel()
	_, err = db.pool.Exec(ctx, `INSERT INTO scripts (usr, name, source, updated) VALUES ($1, $2, $3, $4)
		ON CONFLICT (usr, name) DO UPDATE SET source = excluded.source, updated = excluded.updated`,
		by(strings.ToLower(user)), by(name), source, store.TimeNano(time.Now()))
	if err != nil {
		return fmt.Errorf("put script %q for %q: %w", name, user, err)
	}
	return nil
}

// GetScript returns user's script name, or ErrNotFound.
func (db *DB) GetScript(user, name string) (store.Script, error) {
	if err := store.CheckScript(user, name); err != nil {
		return store.Script{}, err
	}
	ctx, cancel, err := db.op()
	if err != nil {
		return store.Script{}, err
	}
	defer cancel()
	list, err := db.scripts(ctx, `s.usr = $1 AND s.name = $2`, by(strings.ToLower(user)), by(name))
	if err == nil && len(list) == 0 {
		err = store.ErrNotFound
	}
	if err != nil {
		return store.Script{}, fmt.Errorf("get script %q for %q: %w", name, user, err)
	}
	return list[0], nil
}

// ActiveScript returns user's active script, or ErrNotFound.
func (db *DB) ActiveScript(user string) (store.Script, error) {
	if err := store.CheckScriptUser(user); err != nil {
		return store.Script{}, err
	}
	ctx, cancel, err := db.op()
	if err != nil {
		return store.Script{}, err
	}
	defer cancel()
	list, err := db.scripts(ctx, `s.usr = $1 AND a.name IS NOT NULL`, by(strings.ToLower(user)))
	if err == nil && len(list) == 0 {
		err = store.ErrNotFound
	}
	if err != nil {
		return store.Script{}, fmt.Errorf("active script for %q: %w", user, err)
	}
	return list[0], nil
}

// ListScripts lists user's scripts by name.
func (db *DB) ListScripts(user string) ([]store.Script, error) {
	if err := store.CheckScriptUser(user); err != nil {
		return nil, err
	}
	ctx, cancel, err := db.op()
	if err != nil {
		return nil, err
	}
	defer cancel()
	list, err := db.scripts(ctx, `s.usr = $1`, by(strings.ToLower(user)))
	if err != nil {
		return nil, fmt.Errorf("list scripts for %q: %w", user, err)
	}
	return list, nil
}

// DeleteScript deletes a script; the active one fails with ErrActive
// (the database's foreign key refuses it).
func (db *DB) DeleteScript(user, name string) error {
	if err := store.CheckScript(user, name); err != nil {
		return err
	}
	ctx, cancel, err := db.op()
	if err != nil {
		return err
	}
	defer cancel()
	tag, err := db.pool.Exec(ctx, `DELETE FROM scripts WHERE usr = $1 AND name = $2`, by(strings.ToLower(user)), by(name))
	switch {
	case isFKViolation(err):
		err = store.ErrActive
	case err == nil && tag.RowsAffected() == 0:
		err = store.ErrNotFound
	}
	if err != nil {
		return fmt.Errorf("delete script %q for %q: %w", name, user, err)
	}
	return nil
}

// ActivateScript makes name user's active script; "" deactivates all.
func (db *DB) ActivateScript(user, name string) error {
	check := store.CheckScriptUser(user)
	if name != "" {
		check = store.CheckScript(user, name)
	}
	if check != nil {
		return check
	}
	ctx, cancel, err := db.op()
	if err != nil {
		return err
	}
	defer cancel()
	u := by(strings.ToLower(user))
	if name == "" {
		_, err = db.pool.Exec(ctx, `DELETE FROM scripts_active WHERE usr = $1`, u)
	} else {
		_, err = db.pool.Exec(ctx, `INSERT INTO scripts_active (usr, name) VALUES ($1, $2)
			ON CONFLICT (usr) DO UPDATE SET name = excluded.name`, u, by(name))
		if isFKViolation(err) {
			err = store.ErrNotFound
		}
	}
	if err != nil {
		return fmt.Errorf("activate script %q for %q: %w", name, user, err)
	}
	return nil
}

// uniqueViolation is SQLSTATE 23505: the new name of a rename is taken.
const uniqueViolation = "23505"

// RenameScript renames user's script in one transaction: the row is
// copied under the new name, the active pointer moved, the old row
// deleted, so no reader sees both names or neither and the foreign key
// holds throughout.
func (db *DB) RenameScript(user, from, to string) error {
	if err := store.CheckScript(user, from); err != nil {
		return err
	}
	if err := store.CheckScript(user, to); err != nil {
		return err
	}
	ctx, cancel, err := db.op()
	if err != nil {
		return err
	}
	defer cancel()
	u, f, n := by(strings.ToLower(user)), by(from), by(to)
	err = pgx.BeginFunc(ctx, db.pool, func(tx pgx.Tx) error {
		tag, err := tx.Exec(ctx, `INSERT INTO scripts (usr, name, source, updated)
			SELECT usr, $3, source, updated FROM scripts WHERE usr = $1 AND name = $2 AND $2 <> $3`, u, f, n)
		if err != nil {
			return err
		}
		if tag.RowsAffected() == 0 {
			var count int
			if err := tx.QueryRow(ctx, `SELECT count(*) FROM scripts WHERE usr = $1 AND name = $2`, u, f).Scan(&count); err != nil {
				return err
			}
			if count == 0 {
				return store.ErrNotFound
			}
			return nil // renamed to itself
		}
		if _, err := tx.Exec(ctx, `UPDATE scripts_active SET name = $3 WHERE usr = $1 AND name = $2`, u, f, n); err != nil {
			return err
		}
		_, err = tx.Exec(ctx, `DELETE FROM scripts WHERE usr = $1 AND name = $2`, u, f)
		return err
	})
	var pe *pgconn.PgError
	if errors.As(err, &pe) && pe.Code == uniqueViolation {
		err = store.ErrExists
	}
	if err != nil {
		return fmt.Errorf("rename script %q to %q for %q: %w", from, to, user, err)
	}
	return nil
}
