package store

import (
	"context"
	"fmt"
	"os"
	"testing"
	"time"
)

const fullDiskLeaseEnv = "VACATIOND_STORE_FULL_DISK_LEASE_DB"

// TestFullDiskLeaseChild is the child half of TestFailedRetryKeepsLease:
// with the file unable to grow, a Retry that fails to commit
// must leave the record leased until its lease ends, as PostgreSQL does
// (its UPDATE fails, the lease column stays). Ending it made the relay
// claim the record again at once, send it to the relay again, fail to
// store that again: a loop without pause against the relay and the log
// for as long as the disk was full.
func TestFullDiskLeaseChild(t *testing.T) {
	path := os.Getenv(fullDiskLeaseEnv)
	if path == "" {
		t.Skip("child process of TestFailedRetryKeepsLease only")
	}
	db, err := Open(path, Options{NoSync: true})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	ctx := context.Background()
	var recs []*OutboxRecord
	for i := range 8 {
		r := testRecord(i)
		r.Queued = time.Time{}
		r.Message = make([]byte, 64<<10)
		recs = append(recs, r)
	}
	if err := db.Commit(ctx, nil, recs); err != nil {
		t.Fatal(err)
	}
	unlimit := limitFileSize(t, path)
	// Fill the free pages until a commit fails: the file is full.
	var failed error
	for i := 100; i < 1100 && failed == nil; i++ {
		r := testRecord(i)
		r.Message = make([]byte, 64<<10)
		failed = db.Commit(ctx, nil, []*OutboxRecord{r})
	}
	if failed == nil {
		t.Fatal("no commit failed with the file size limited")
	}
	now := time.Now()
	claimed, err := db.Claim(ctx, now, 0, time.Minute)
	if err != nil || len(claimed) == 0 {
		t.Fatalf("Claim: %d records, %v", len(claimed), err)
	}
	// A Drop frees the record's pages and stores only its envelope, so
	// it still commits here; a Retry rewrites the record and fails.
	settle := map[string]func(id uint64) error{
		"Retry": func(id uint64) error { return db.Retry(id, now.Add(time.Hour), "451 try later") },
	}
	for what, f := range settle {
		var id uint64
		for len(claimed) > 0 && id == 0 {
			rec := claimed[0]
			claimed = claimed[1:]
			if err := f(rec.ID); err != nil {
				id = rec.ID
				fmt.Printf("%s of %d while full: %v\n", what, rec.ID, err)
			}
		}
		if id == 0 {
			t.Fatalf("no %s failed with the file size limited", what)
		}
		again, err := db.Claim(ctx, now.Add(time.Second), 0, time.Minute)
		if err != nil {
			t.Fatal(err)
		}
		for _, r := range again {
			if r.ID == id {
				t.Errorf("record %d claimed again at once after its %s failed to commit: its lease ended", id, what)
			}
		}
		for _, r := range again {
			db.Release(r.ID)
		}
		if n := db.Leased(); n == 0 {
			t.Errorf("no lease running after a failed %s", what)
		}
	}
	unlimit()
	if err := db.Check(); err != nil {
		t.Fatal(err)
	}
	fmt.Println("PASS-CHILD")
}

// TestFailedRetryKeepsLease runs TestFullDiskLeaseChild in a child
// process, since the file size limit is the whole process's.
func TestFailedRetryKeepsLease(t *testing.T) {
	runFullDiskChild(t, "TestFullDiskLeaseChild", fullDiskLeaseEnv)
}
