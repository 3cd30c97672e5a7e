package store

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	bolt "go.etcd.io/bbolt"
)

// ErrActive is returned when deleting a user's active script, as
// ManageSieve (RFC 5804) requires.
var ErrActive = errors.New("script is active")

// ErrExists is returned when renaming a script to a name the user already
// has.
var ErrExists = errors.New("script already exists")

// Script is a stored Sieve script. Each user has any number of named
// scripts, at most one of them active.
type Script struct {
	User, Name string
	Source     []byte
	Active     bool
	Updated    time.Time
}

func scriptKey(user, name string) ([]byte, error) {
	if err := checkScriptUser(user); err != nil {
		return nil, err
	}
	if name == "" || len(name) > 1024 || strings.ContainsFunc(name, func(r rune) bool { return r < 0x20 || r == 0x7f }) {
		return nil, fmt.Errorf("script name %q for %q: empty, too long or has control characters: %w", name, user, ErrInvalid)
	}
	k := make([]byte, 0, len(user)+1+len(name))
	k = append(k, strings.ToLower(user)...)
	k = append(k, 0)
	return append(k, name...), nil
}

func checkScriptUser(user string) error {
	if user == "" || strings.IndexByte(user, 0) >= 0 || len(user) > 1024 {
		return fmt.Errorf("script user %q: empty, too long or has a NUL byte: %w", user, ErrInvalid)
	}
	return nil
}

// PutScript stores source as user's script name, replacing any script of
// that name (and keeping it active if it was). Durable when it returns.
// The store does not compile scripts; callers check them first.
func (db *DB) PutScript(user, name string, source []byte) error {
	key, err := scriptKey(user, name)
	if err != nil {
		return err
	}
	if len(source) > bolt.MaxValueSize-64 {
		return fmt.Errorf("script %q for %q: %d bytes is too large: %w", name, user, len(source), ErrInvalid)
	}
	val := encodeScript(time.Now(), source)
	err = db.w.do(context.Background(), func(tx *bolt.Tx) error {
		return tx.Bucket(bucketScripts).Put(key, val)
	})
	if err != nil {
		return fmt.Errorf("put script %q for %q: %w", name, user, err)
	}
	return nil
}

// GetScript returns user's script name, or an error wrapping ErrNotFound.
func (db *DB) GetScript(user, name string) (Script, error) {
	key, err := scriptKey(user, name)
	if err != nil {
		return Script{}, err
	}
	var s Script
	err = db.view(func(tx *bolt.Tx) error {
		v := tx.Bucket(bucketScripts).Get(key)
		if v == nil {
			return ErrNotFound
		}
		s, err = readScript(tx, key, v)
		return err
	})
	if err != nil {
		return Script{}, fmt.Errorf("get script %q for %q: %w", name, user, err)
	}
	return s, nil
}

// ActiveScript returns user's active script, or an error wrapping
// ErrNotFound if none is active.
func (db *DB) ActiveScript(user string) (Script, error) {
	if err := checkScriptUser(user); err != nil {
		return Script{}, err
	}
	var s Script
	err := db.view(func(tx *bolt.Tx) error {
		name := tx.Bucket(bucketScriptsActive).Get([]byte(strings.ToLower(user)))
		if name == nil {
			return ErrNotFound
		}
		key := append(append([]byte(strings.ToLower(user)), 0), name...)
		v := tx.Bucket(bucketScripts).Get(key)
		if v == nil {
			return fmt.Errorf("active script %q missing: %w", name, ErrNotFound)
		}
		var err error
		s, err = readScript(tx, key, v)
		return err
	})
	if err != nil {
		return Script{}, fmt.Errorf("active script for %q: %w", user, err)
	}
	return s, nil
}

// ListScripts returns user's scripts in name order.
func (db *DB) ListScripts(user string) ([]Script, error) {
	if err := checkScriptUser(user); err != nil {
		return nil, err
	}
	prefix := append([]byte(strings.ToLower(user)), 0)
	var out []Script
	err := db.view(func(tx *bolt.Tx) error {
		c := tx.Bucket(bucketScripts).Cursor()
		for k, v := c.Seek(prefix); k != nil && bytes.HasPrefix(k, prefix); k, v = c.Next() {
			s, err := readScript(tx, k, v)
			if err != nil {
				return err
			}
			out = append(out, s)
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("list scripts for %q: %w", user, err)
	}
	return out, nil
}

// DeleteScript deletes user's script name. It fails with ErrActive if the
// script is active and ErrNotFound if it does not exist.
func (db *DB) DeleteScript(user, name string) error {
	key, err := scriptKey(user, name)
	if err != nil {
		return err
	}
	err = db.w.do(context.Background(), func(tx *bolt.Tx) error {
		b := tx.Bucket(bucketScripts)
		if b.Get(key) == nil {
			return ErrNotFound
		}
		if a := tx.Bucket(bucketScriptsActive).Get([]byte(strings.ToLower(user))); a != nil && string(a) == name {
			return ErrActive
		}
		return b.Delete(key)
	})
	if err != nil {
		return fmt.Errorf("delete script %q for %q: %w", name, user, err)
	}
	return nil
}

// ActivateScript makes name user's active script, deactivating any other;
// an empty name deactivates all of user's scripts. It fails with
// ErrNotFound if the script does not exist.
func (db *DB) ActivateScript(user, name string) error {
	if err := checkScriptUser(user); err != nil {
		return err
	}
	var key []byte
	if name != "" {
		var err error
		if key, err = scriptKey(user, name); err != nil {
			return err
		}
	}
	ukey := []byte(strings.ToLower(user))
	err := db.w.do(context.Background(), func(tx *bolt.Tx) error {
		a := tx.Bucket(bucketScriptsActive)
		if name == "" {
			return a.Delete(ukey)
		}
		if tx.Bucket(bucketScripts).Get(key) == nil {
			return ErrNotFound
		}
		return a.Put(ukey, []byte(name))
	})
	if err != nil {
		return fmt.Errorf("activate script %q for %q: %w", name, user, err)
	}
	return nil
}

// RenameScript renames user's script from to to in one transaction,
// keeping its source, update time and active state. It fails with
// ErrNotFound if from does not exist and ErrExists if to does.
func (db *DB) RenameScript(user, from, to string) error {
	fk, err := scriptKey(user, from)
	if err != nil {
		return err
	}
	tk, err := scriptKey(user, to)
	if err != nil {
		return err
	}
	ukey := []byte(strings.ToLower(user))
	err = db.w.do(context.Background(), func(tx *bolt.Tx) error {
		b := tx.Bucket(bucketScripts)
		v := b.Get(fk)
		if v == nil {
			return ErrNotFound
		}
		if from == to {
			return nil
		}
		if b.Get(tk) != nil {
			return ErrExists
		}
		if err := b.Put(tk, bytes.Clone(v)); err != nil {
			return err
		}
		if err := b.Delete(fk); err != nil {
			return err
		}
		a := tx.Bucket(bucketScriptsActive)
		if cur := a.Get(ukey); cur != nil && string(cur) == from {
			return a.Put(ukey, []byte(to))
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("rename script %q to %q for %q: %w", from, to, user, err)
	}
	return nil
}

func readScript(tx *bolt.Tx, key, v []byte) (Script, error) {
	i := bytes.IndexByte(key, 0)
	if i < 0 {
		return Script{}, fmt.Errorf("bad script key %q", key)
	}
	user, name := string(key[:i]), string(key[i+1:])
	updated, src, err := decodeScript(v)
	if err != nil {
		return Script{}, fmt.Errorf("script %q for %q: %w", name, user, err)
	}
	a := tx.Bucket(bucketScriptsActive).Get(key[:i])
	return Script{User: user, Name: name, Source: src, Updated: updated, Active: a != nil && string(a) == name}, nil
}
