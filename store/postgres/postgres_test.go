package postgres

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/vacationd/vacationd/internal/peertest"
	"github.com/vacationd/vacationd/store"
	"github.com/vacationd/vacationd/store/storetest"
)

func open(t *testing.T, url string) *DB {
	t.Helper()
	db, err := Open(context.Background(), url, Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	return db
}

// TestContract runs the state contract suite against PostgreSQL, each
// test on a fresh database of one throwaway cluster, with replicas as
// further handles on the same database.
func TestContract(t *testing.T) {
	pg := peertest.StartPostgres(t, 30*time.Second, false)
	urls := map[store.State]string{}
	storetest.Run(t, storetest.Backend{
		New: func(t *testing.T) store.State {
			url := pg.CreateDB(t)
			db := open(t, url)
			urls[db] = url
			return db
		},
		Replica: func(t *testing.T, s store.State) store.State {
			return open(t, urls[s])
		},
	})
}

// TestOpenWaitsForServer: Open retries while the server is down (replicas
// started together with PostgreSQL), but not when the server answers
// with an error (a missing database).
func TestOpenWaitsForServer(t *testing.T) {
	pg := peertest.StartPostgres(t, 30*time.Second, false)
	url := pg.CreateDB(t)
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	start := time.Now()
	if _, err := Open(ctx, pg.URL("missing"), Options{}); err == nil || time.Since(start) > 4*time.Second {
		t.Errorf("Open of a missing database: %v after %s; want an error at once", err, time.Since(start))
	}
	pg.Stop(t, 30*time.Second)
	opened := make(chan error, 1)
	go func() {
		ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
		defer cancel()
		db, err := Open(ctx, url, Options{})
		if err == nil {
			db.Close()
		}
		opened <- err
	}()
	time.Sleep(time.Second)
	select {
	case err := <-opened:
		t.Fatalf("Open returned %v while the server was down", err)
	default:
	}
	pg.Start(t, 30*time.Second)
	if err := <-opened; err != nil {
		t.Errorf("Open after the server came back: %v", err)
	}
}

// TestMigrate: migrations apply once, replicas opening together apply
// them once, and a database migrated by a newer vacationd is refused.
func TestMigrate(t *testing.T) {
	pg := peertest.StartPostgres(t, 30*time.Second, false)
	url := pg.CreateDB(t)
	ctx := context.Background()
	errs := make(chan error, 3)
	for range 3 {
		go func() {
			db, err := Open(ctx, url, Options{})
			if err == nil {
				db.Close()
			}
			errs <- err
		}()
	}
	for range 3 {
		if err := <-errs; err != nil {
			t.Errorf("Open by replicas starting together: %v", err)
		}
	}
	pool, err := NewPool(ctx, url)
	if err != nil {
		t.Fatal(err)
	}
	defer pool.Close()
	if applied, err := Migrate(ctx, pool); err != nil || len(applied) != 0 {
		t.Errorf("Migrate of a migrated database = %v, %v; want nothing applied", applied, err)
	}
	var n int
	if err := pool.QueryRow(ctx, `SELECT count(*) FROM vacationd_schema`).Scan(&n); err != nil || n != SchemaVersion() {
		t.Errorf("vacationd_schema has %d rows, %v; want %d", n, err, SchemaVersion())
	}
	if _, err := pool.Exec(ctx, `INSERT INTO vacationd_schema (version, name) VALUES (999, '0999_future.sql')`); err != nil {
		t.Fatal(err)
	}
	if _, err := Open(ctx, url, Options{}); err == nil || !strings.Contains(err.Error(), "newer") {
		t.Errorf("Open of a database with a newer schema: %v, want a refusal", err)
	}
	if _, err := Open(ctx, url, Options{NoMigrate: true}); err == nil {
		t.Error("Open with NoMigrate of a database at another version succeeded")
	}
}
