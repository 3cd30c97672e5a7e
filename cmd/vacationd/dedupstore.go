package main

import (
	"fmt"
	"os"
	"path/filepath"
	"time"

	"github.com/vacationd/vacationd/store"
)

// openTestStore opens (creating it if needed) DIR/vacationd.db for
// vacationd test.
func openTestStore(dir string) (*store.DB, error) {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, fmt.Errorf("--data: %w", err)
	}
	return store.Open(filepath.Join(dir, "vacationd.db"), store.Options{Timeout: 500 * time.Millisecond})
}
