package store

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"
)

// blockWriter makes the next Commit whose first mark has handle "block"
// hold the writer inside its transaction until release is closed, so that
// later calls queue up and are committed together in one transaction.
func blockWriter(t *testing.T, db *DB, fail func(handle string) error) (entered <-chan struct{}, release chan struct{}) {
	in := make(chan struct{})
	release = make(chan struct{})
	var once sync.Once
	db.testHook = func(marks []Mark, _ []*OutboxRecord) error {
		if len(marks) > 0 && marks[0].Key.Handle == "block" {
			once.Do(func() { close(in) })
			<-release
			return nil
		}
		if fail != nil && len(marks) > 0 {
			return fail(marks[0].Key.Handle)
		}
		return nil
	}
	return in, release
}

func pendingLen(db *DB) int {
	db.w.mu.Lock()
	defer db.w.mu.Unlock()
	return len(db.w.pending)
}

// TestCommitAtomicInBatch commits a batch in which some calls fail or
// panic inside the transaction: those calls must leave no trace (not their
// marks, written before the failure, nor their records), and every other
// call in the same transaction must be stored whole.
func TestCommitAtomicInBatch(t *testing.T) {
	db := openTest(t)
	ctx := context.Background()
	entered, release := blockWriter(t, db, func(h string) error {
		switch {
		case strings.HasPrefix(h, "fail"):
			return errors.New("injected failure")
		case strings.HasPrefix(h, "panic"):
			panic("injected panic")
		}
		return nil
	})
	blockErr := make(chan error, 1)
	go func() {
		blockErr <- db.Commit(ctx, []Mark{mark("u@x", "s@x", "block", t0, time.Hour)}, nil)
	}()
	<-entered

	const n = 40
	handle := func(i int) string {
		switch i % 5 {
		case 1:
			return fmt.Sprintf("fail%d", i)
		case 3:
			return fmt.Sprintf("panic%d", i)
		}
		return fmt.Sprintf("ok%d", i)
	}
	errs := make([]error, n)
	recs := make([][]*OutboxRecord, n)
	var wg sync.WaitGroup
	for i := range n {
		recs[i] = []*OutboxRecord{testRecord(2 * i), testRecord(2*i + 1)}
		wg.Add(1)
		go func() {
			defer wg.Done()
			errs[i] = db.Commit(ctx, []Mark{
				mark("u@x", "s@x", handle(i), t0, time.Hour),
				mark("u@x", fmt.Sprintf("other%d@x", i), "", t0, time.Hour),
			}, recs[i])
		}()
	}
	for pendingLen(db) < n {
		time.Sleep(100 * time.Microsecond)
	}
	close(release)
	wg.Wait()
	if err := <-blockErr; err != nil {
		t.Fatal(err)
	}

	stored := map[string]bool{}
	all, err := db.ListOutbox()
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range all {
		stored[r.To[0]] = true
	}
	for i := range n {
		h := handle(i)
		wantOK := strings.HasPrefix(h, "ok")
		if (errs[i] == nil) != wantOK {
			t.Errorf("commit %d (%s): err = %v", i, h, errs[i])
		}
		if !wantOK && !strings.Contains(errs[i].Error(), "injected") {
			t.Errorf("commit %d: error %q does not carry the cause", i, errs[i])
		}
		for _, k := range []DedupKey{{"u@x", "s@x", h}, {"u@x", fmt.Sprintf("other%d@x", i), ""}} {
			if seen, _ := db.Seen(ctx, k, t0); seen != wantOK {
				t.Errorf("commit %d (%s): mark %v seen = %v", i, h, k, seen)
			}
		}
		for _, r := range recs[i] {
			if stored[r.To[0]] != wantOK {
				t.Errorf("commit %d (%s): record for %s stored = %v", i, h, r.To[0], stored[r.To[0]])
			}
			if (r.ID != 0) != wantOK {
				t.Errorf("commit %d (%s): ID = %d", i, h, r.ID)
			}
		}
	}
	if want := 2 * (n - 2*n/5); len(all) != want {
		t.Errorf("%d records stored, want %d", len(all), want)
	}
	// The blocker, then all n calls in one transaction once the failing
	// ones were taken out.
	if st := db.WriterStats(); st.Transactions != 2 || st.Writes != 1+uint64(n-2*n/5) || st.Failed != 2*n/5 {
		t.Errorf("WriterStats = %+v", st)
	}
}

func TestCommitContext(t *testing.T) {
	db := openTest(t)
	canceled, cancel := context.WithCancel(context.Background())
	cancel()
	if err := db.Commit(canceled, nil, []*OutboxRecord{testRecord(0)}); !errors.Is(err, context.Canceled) {
		t.Errorf("canceled Commit err = %v", err)
	}

	// A call still queued behind a running transaction is withdrawn.
	entered, release := blockWriter(t, db, nil)
	blockErr := make(chan error, 1)
	go func() {
		blockErr <- db.Commit(context.Background(), []Mark{mark("u@x", "s@x", "block", t0, time.Hour)}, nil)
	}()
	<-entered
	ctx, cancel := context.WithCancel(context.Background())
	errc := make(chan error, 1)
	go func() { errc <- db.Commit(ctx, nil, []*OutboxRecord{testRecord(1)}) }()
	for pendingLen(db) < 1 {
		time.Sleep(100 * time.Microsecond)
	}
	cancel()
	if err := <-errc; !errors.Is(err, context.Canceled) {
		t.Errorf("withdrawn Commit err = %v", err)
	}
	close(release)
	if err := <-blockErr; err != nil {
		t.Fatal(err)
	}
	if recs, _ := db.ListOutbox(); len(recs) != 0 {
		t.Errorf("canceled commits stored %d records", len(recs))
	}
}

// TestCommitConcurrent commits from many goroutines at once (run with
// -race): every call must succeed, IDs must be unique, and everything must
// be readable afterwards.
func TestCommitConcurrent(t *testing.T) {
	db := openTest(t)
	const workers, each = 32, 25
	var (
		wg  sync.WaitGroup
		mu  sync.Mutex
		ids = map[uint64]bool{}
	)
	for w := range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range each {
				r := testRecord(w*each + i)
				m := mark("u@x", fmt.Sprintf("s%d-%d@x", w, i), "", t0, time.Hour)
				if err := db.Commit(context.Background(), []Mark{m}, []*OutboxRecord{r}); err != nil {
					t.Error(err)
					return
				}
				if seen, err := db.Seen(context.Background(), m.Key, t0); err != nil || !seen {
					t.Errorf("mark %v not seen after Commit returned: %v", m.Key, err)
				}
				mu.Lock()
				if ids[r.ID] {
					t.Errorf("ID %d assigned twice", r.ID)
				}
				ids[r.ID] = true
				mu.Unlock()
			}
		}()
	}
	wg.Wait()
	all, err := db.ListOutbox()
	if err != nil {
		t.Fatal(err)
	}
	if len(all) != workers*each || len(ids) != workers*each {
		t.Errorf("%d records, %d IDs; want %d", len(all), len(ids), workers*each)
	}
	marks, err := db.ListDedup("u@x", "")
	if err != nil || len(marks) != workers*each {
		t.Errorf("%d marks, %v; want %d", len(marks), err, workers*each)
	}
}

func TestReopen(t *testing.T) {
	path := filepath.Join(t.TempDir(), "vacationd.db")
	db, err := Open(path, Options{})
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	r := testRecord(1)
	m := mark("alice@example.com", "bob@example.org", "h", t0, time.Hour)
	if err := db.Commit(ctx, []Mark{m}, []*OutboxRecord{r}); err != nil {
		t.Fatal(err)
	}
	if err := db.PutScript("alice@example.com", "vacation", []byte("require \"vacation\";")); err != nil {
		t.Fatal(err)
	}
	if err := db.Close(); err != nil {
		t.Fatal(err)
	}
	if err := db.Close(); err != nil {
		t.Errorf("second Close: %v", err)
	}
	if err := db.Commit(ctx, nil, []*OutboxRecord{testRecord(2)}); !errors.Is(err, ErrClosed) {
		t.Errorf("Commit after Close err = %v, want ErrClosed", err)
	}
	if _, err := db.Seen(ctx, m.Key, t0); !errors.Is(err, ErrClosed) {
		t.Errorf("Seen after Close err = %v, want ErrClosed", err)
	}
	if err := db.Ping(context.Background()); !errors.Is(err, ErrClosed) {
		t.Errorf("Ping after Close err = %v, want ErrClosed", err)
	}

	db, err = Open(path, Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	if err := db.Ping(context.Background()); err != nil {
		t.Fatal(err)
	}
	if seen, err := db.Seen(ctx, m.Key, t0); err != nil || !seen {
		t.Errorf("mark lost across reopen: %v %v", seen, err)
	}
	got, err := db.Get(r.ID)
	if err != nil || !sameRecord(got, *r) {
		t.Errorf("record lost across reopen: %+v %v", got, err)
	}
	if s, err := db.GetScript("alice@example.com", "vacation"); err != nil || string(s.Source) != "require \"vacation\";" {
		t.Errorf("script lost across reopen: %+v %v", s, err)
	}
	r2 := testRecord(2)
	if err := db.Commit(ctx, nil, []*OutboxRecord{r2}); err != nil {
		t.Fatal(err)
	}
	if r2.ID <= r.ID {
		t.Errorf("ID reused after reopen: %d <= %d", r2.ID, r.ID)
	}
}

func TestOpenLocked(t *testing.T) {
	path := filepath.Join(t.TempDir(), "vacationd.db")
	db, err := Open(path, Options{NoSync: true})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	_, err = Open(path, Options{Timeout: -1})
	if !errors.Is(err, ErrLocked) || !strings.Contains(err.Error(), path) {
		t.Errorf("second Open err = %v, want ErrLocked naming the path", err)
	}
}

func TestOpenErrors(t *testing.T) {
	dir := t.TempDir()
	tests := []struct {
		name, path string
	}{
		{"missing directory", filepath.Join(dir, "nope", "vacationd.db")},
		{"directory", dir},
	}
	for _, tt := range tests {
		if _, err := Open(tt.path, Options{}); err == nil || !strings.Contains(err.Error(), tt.path) {
			t.Errorf("%s: err = %v, want an error naming %s", tt.name, err, tt.path)
		}
	}
}
