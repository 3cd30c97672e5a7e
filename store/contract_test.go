package store_test

import (
	"path/filepath"
	"testing"

	"github.com/vacationd/vacationd/store"
	"github.com/vacationd/vacationd/store/storetest"
)

// TestContract runs the state contract suite against bbolt.
func TestContract(t *testing.T) {
	storetest.Run(t, storetest.Backend{
		New: func(t *testing.T) store.State {
			db, err := store.Open(filepath.Join(t.TempDir(), "vacationd.db"), store.Options{NoSync: true})
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { db.Close() })
			return db
		},
	})
}
