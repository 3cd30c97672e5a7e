package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"time"

	"github.com/vacationd/vacationd/vacation"
)

// dedupFile is where vacationd test --data keeps its dedup records.
const dedupFile = "test-dedup.json"

type dedupRecord struct {
	User    string    `json:"user"`
	Sender  string    `json:"sender"`
	Handle  string    `json:"handle"`
	Expires time.Time `json:"expires"`
}

// loadDedup reads the records saved in dir into m; a missing file is an
// empty set.
func loadDedup(dir string, m *vacation.MemoryDedup, now time.Time) error {
	p := filepath.Join(dir, dedupFile)
	b, err := os.ReadFile(p)
	if errors.Is(err, fs.ErrNotExist) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("load dedup records: %w", err)
	}
	var recs []dedupRecord
	if err := json.Unmarshal(b, &recs); err != nil {
		return fmt.Errorf("load dedup records %s: %w", p, err)
	}
	for _, r := range recs {
		if err := m.Mark(context.Background(), vacation.Key{User: r.User, Sender: r.Sender, Handle: r.Handle}, now, r.Expires); err != nil {
			return err
		}
	}
	return nil
}

// saveDedup writes the unexpired records of m to dir, atomically.
func saveDedup(dir string, m *vacation.MemoryDedup, now time.Time) error {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return fmt.Errorf("save dedup records: %w", err)
	}
	recs := []dedupRecord{}
	for k, exp := range m.Records(now) {
		recs = append(recs, dedupRecord{User: k.User, Sender: k.Sender, Handle: k.Handle, Expires: exp})
	}
	sort.Slice(recs, func(i, j int) bool {
		a, b := recs[i], recs[j]
		if a.User != b.User {
			return a.User < b.User
		}
		if a.Sender != b.Sender {
			return a.Sender < b.Sender
		}
		return a.Handle < b.Handle
	})
	b, err := json.MarshalIndent(recs, "", "  ")
	if err != nil {
		return err
	}
	tmp, err := os.CreateTemp(dir, dedupFile+".*")
	if err != nil {
		return fmt.Errorf("save dedup records: %w", err)
	}
	if _, err := tmp.Write(append(b, '\n')); err != nil {
		tmp.Close()
		os.Remove(tmp.Name())
		return fmt.Errorf("save dedup records: %w", err)
	}
	if err := tmp.Close(); err != nil {
		os.Remove(tmp.Name())
		return fmt.Errorf("save dedup records: %w", err)
	}
	if err := os.Rename(tmp.Name(), filepath.Join(dir, dedupFile)); err != nil {
		return fmt.Errorf("save dedup records: %w", err)
	}
	return nil
}
