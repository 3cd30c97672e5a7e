package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io/fs"
	"log/slog"
	"os"
	"path/filepath"
	"time"

	"github.com/vacationd/vacationd/store"
	"github.com/vacationd/vacationd/store/postgres"
)

// stateOptions choose where the state lives: --state postgres://... for
// replicas sharing PostgreSQL, or bbolt in --data (the default).
type stateOptions struct {
	state      string
	relayLease time.Duration
}

func (o *stateOptions) flags(fs *flag.FlagSet) {
	checked(fs, &o.state, "state", "", "shared state in PostgreSQL: postgres://USER@HOST/DB?... (empty: bbolt in --data)", checkStateURL)
	fs.DurationVar(&o.relayLease, "relay-lease", store.DefaultLease, "how long a relay worker holds a claimed outbox record; another replica sends it after that")
}

func checkStateURL(v string) error {
	if v != "" && !postgres.IsURL(v) {
		return fmt.Errorf("--state %q: want postgres://... or postgresql://...", v)
	}
	return nil
}

// stateOpenTimeout bounds connecting and migrating at start.
const stateOpenTimeout = 30 * time.Second

// openState opens the service's state: PostgreSQL when url is set
// (applying migrations), else DIR/vacationd.db, created if create is set
// (the operator commands refuse a missing file, which would only hide a
// wrong --data). lockWait is how long bbolt waits for the file lock.
func openState(url, dir string, create bool, lockWait time.Duration, log *slog.Logger) (store.State, error) {
	if url != "" {
		if err := checkStateURL(url); err != nil {
			return nil, err
		}
		ctx, cancel := context.WithTimeout(context.Background(), stateOpenTimeout)
		defer cancel()
		return postgres.Open(ctx, url, postgres.Options{Logger: log})
	}
	path := filepath.Join(dir, "vacationd.db")
	if create {
		if err := os.MkdirAll(dir, 0o750); err != nil {
			return nil, fmt.Errorf("data directory: %w", err)
		}
	} else if _, err := os.Stat(path); errors.Is(err, fs.ErrNotExist) {
		return nil, fmt.Errorf("no database at %s (wrong --data, or --state missing?)", path)
	} else if err != nil {
		return nil, err
	}
	return store.Open(path, store.Options{Logger: log, Timeout: lockWait})
}
