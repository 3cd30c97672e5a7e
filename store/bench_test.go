package store

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	bolt "go.etcd.io/bbolt"
)

// benchDB opens a database with real fsync in $VACATIOND_BENCH_DIR (to
// measure a particular disk) or a temporary directory.
func benchDB(b *testing.B) *DB {
	b.Helper()
	dir := os.Getenv("VACATIOND_BENCH_DIR")
	if dir == "" {
		dir = b.TempDir()
	} else {
		var err error
		if dir, err = os.MkdirTemp(dir, "bench"); err != nil {
			b.Fatal(err)
		}
		b.Cleanup(func() { os.RemoveAll(dir) })
	}
	db, err := Open(filepath.Join(dir, "vacationd.db"), Options{})
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { db.Close() })
	return db
}

// benchReply is one LMTP recipient's worth of state: a mark and a ~1 KiB
// reply.
func benchReply(n int64) ([]Mark, []*OutboxRecord) {
	sender := fmt.Sprintf("sender%d@example.org", n)
	msg := make([]byte, 1024)
	for i := range msg {
		msg[i] = 'a' + byte(i%26)
	}
	return []Mark{{Key: DedupKey{"alice@example.com", sender, "h"}, Created: t0, Expires: t0.Add(7 * 24 * time.Hour)}},
		[]*OutboxRecord{{To: []string{sender}, Message: msg, Kind: KindVacation, User: "alice@example.com", Queued: t0}}
}

// BenchmarkCommit measures durable commits of one mark and one 1 KiB
// record: serially (latency of a lone caller, one fsync each) and from 32
// goroutines per CPU (group commit sharing fsyncs). The bbolt-batch cases
// do the same writes through bbolt's DB.Batch for comparison.
func BenchmarkCommit(b *testing.B) {
	ctx := context.Background()
	commit := func(db *DB, n int64) error {
		marks, recs := benchReply(n)
		return db.Commit(ctx, marks, recs)
	}
	batch := func(db *DB, n int64) error {
		marks, recs := benchReply(n)
		key, _ := dedupKey(marks[0].Key)
		val := encodeOutbox(recs[0])
		return db.bolt.Batch(func(tx *bolt.Tx) error {
			if err := putMark(tx, key, marks[0]); err != nil {
				return err
			}
			ob := tx.Bucket(bucketOutbox)
			id, err := ob.NextSequence()
			if err != nil {
				return err
			}
			if err := ob.Put(u64(id), val); err != nil {
				return err
			}
			return tx.Bucket(bucketOutboxDue).Put(dueKey(t0, id), []byte{})
		})
	}
	for _, bc := range []struct {
		name     string
		parallel bool
		fn       func(*DB, int64) error
	}{
		{"serial", false, commit},
		{"parallel", true, commit},
		{"bbolt-batch/serial", false, batch},
		{"bbolt-batch/parallel", true, batch},
	} {
		b.Run(bc.name, func(b *testing.B) {
			db := benchDB(b)
			var seq atomic.Int64
			b.ReportAllocs()
			b.ResetTimer()
			if !bc.parallel {
				for i := 0; b.Loop(); i++ {
					if err := bc.fn(db, int64(i)); err != nil {
						b.Fatal(err)
					}
				}
			} else {
				b.SetParallelism(32)
				b.RunParallel(func(pb *testing.PB) {
					for pb.Next() {
						if err := bc.fn(db, seq.Add(1)); err != nil {
							b.Error(err)
							return
						}
					}
				})
			}
			b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "commits/s")
		})
	}
}

// BenchmarkSeen looks up keys in a database holding 100000 marks, half
// hits and half misses.
func BenchmarkSeen(b *testing.B) {
	db := benchDB(b)
	ctx := context.Background()
	const n = 100000
	for i := 0; i < n; i += 5000 {
		var marks []Mark
		for j := i; j < i+5000; j++ {
			marks = append(marks, Mark{Key: DedupKey{fmt.Sprintf("user%d@example.com", j%100), fmt.Sprintf("sender%d@example.org", j), "h"},
				Created: t0, Expires: t0.Add(time.Hour)})
		}
		if err := db.Commit(ctx, marks, nil); err != nil {
			b.Fatal(err)
		}
	}
	keys := make([]DedupKey, 1024)
	for i := range keys {
		j := i * 97 % n
		if i%2 == 1 {
			j += n // miss
		}
		keys[i] = DedupKey{fmt.Sprintf("user%d@example.com", j%100), fmt.Sprintf("Sender%d@example.org", j), "h"}
	}
	b.Run("serial", func(b *testing.B) {
		b.ReportAllocs()
		for i := 0; b.Loop(); i++ {
			if _, err := db.Seen(ctx, keys[i%len(keys)], t0); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("parallel", func(b *testing.B) {
		b.ReportAllocs()
		var i atomic.Int64
		b.RunParallel(func(pb *testing.PB) {
			for pb.Next() {
				if _, err := db.Seen(ctx, keys[i.Add(1)%int64(len(keys))], t0); err != nil {
					b.Error(err)
					return
				}
			}
		})
	})
}

// BenchmarkClaimDone measures the sending side without the network: 4
// workers (the --relay-workers default) claim due records and delete them
// with Done, with real fsync; Done calls share transactions like Commit.
func BenchmarkClaimDone(b *testing.B) {
	db := benchDB(b)
	ctx := context.Background()
	for i := 0; i < b.N; i += 1000 {
		var recs []*OutboxRecord
		for j := i; j < min(i+1000, b.N); j++ {
			_, r := benchReply(int64(j))
			recs = append(recs, r...)
		}
		if err := db.Commit(ctx, nil, recs); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportAllocs()
	b.ResetTimer()
	done := make(chan struct{})
	for range 4 {
		go func() {
			defer func() { done <- struct{}{} }()
			for {
				recs, err := db.Claim(context.Background(), t0, 1, 0)
				if err != nil {
					b.Error(err)
					return
				}
				if len(recs) == 0 {
					return
				}
				if err := db.Done(recs[0].ID); err != nil {
					b.Error(err)
					return
				}
			}
		}()
	}
	for range 4 {
		<-done
	}
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "records/s")
}

// BenchmarkOpenLarge opens a file holding a million dedup marks (built once
// per run, without fsync) and reports the time to open and the growth of
// the process's resident memory across the open: bbolt maps the file, and
// Open must not read every page of it.
func BenchmarkOpenLarge(b *testing.B) {
	const n = 1000000
	path := filepath.Join(b.TempDir(), "large.db")
	db, err := Open(path, Options{NoSync: true, MaxBatch: 1})
	if err != nil {
		b.Fatal(err)
	}
	ctx := context.Background()
	const per = 50000
	for i := 0; i < n; i += per {
		marks := make([]Mark, per)
		for j := range marks {
			k := i + j
			marks[j] = Mark{Key: DedupKey{fmt.Sprintf("user%03d@example.com", k%1000), fmt.Sprintf("sender%07d@example.org", k), "h"},
				Created: t0, Expires: t0.Add(7 * 24 * time.Hour)}
		}
		if err := db.Commit(ctx, marks, nil); err != nil {
			b.Fatal(err)
		}
	}
	if err := db.Close(); err != nil {
		b.Fatal(err)
	}
	st, err := os.Stat(path)
	if err != nil {
		b.Fatal(err)
	}
	var rss float64
	for b.Loop() {
		before := vmRSS(b)
		db, err := Open(path, Options{})
		if err != nil {
			b.Fatal(err)
		}
		rss = max(rss, vmRSS(b)-before)
		b.StopTimer()
		db.Close()
		b.StartTimer()
	}
	b.ReportMetric(float64(b.Elapsed().Milliseconds())/float64(b.N), "ms/open")
	b.ReportMetric(rss, "rss-MiB")
	b.ReportMetric(float64(st.Size())/(1<<20), "file-MiB")
}

// vmRSS is the process's resident memory in MiB, from /proc (0 elsewhere).
func vmRSS(b *testing.B) float64 {
	s, err := os.ReadFile("/proc/self/status")
	if err != nil {
		return 0
	}
	var kb float64
	for _, l := range strings.Split(string(s), "\n") {
		if rest, ok := strings.CutPrefix(l, "VmRSS:"); ok {
			fmt.Sscan(rest, &kb)
		}
	}
	return kb / 1024
}
