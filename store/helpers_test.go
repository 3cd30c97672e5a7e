package store

import (
	"fmt"
	"path/filepath"
	"testing"
	"time"

	bolt "go.etcd.io/bbolt"
)

// t0 is a fixed clock origin for tests.
var t0 = time.Date(2026, 7, 1, 12, 0, 0, 0, time.UTC)

func openTest(t testing.TB) *DB {
	t.Helper()
	db, err := Open(filepath.Join(t.TempDir(), "vacationd.db"), Options{NoSync: true})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := db.Check(); err != nil {
			t.Errorf("consistency: %v", err)
		}
		db.Close()
	})
	return db
}

func testRecord(i int) *OutboxRecord {
	return &OutboxRecord{
		From:    "",
		To:      []string{fmt.Sprintf("sender%d@example.org", i)},
		Message: []byte(fmt.Sprintf("Subject: Auto: hello %d\r\n\r\nI am away.\r\n", i)),
		Kind:    KindVacation,
		User:    "alice@example.com",
		Queued:  t0,
	}
}

// indexLen counts the entries of the dedup expiry index.
func indexLen(t testing.TB, db *DB) int {
	t.Helper()
	var n int
	if err := db.view(func(tx *bolt.Tx) error {
		n = tx.Bucket(bucketDedupExp).Stats().KeyN
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	return n
}
