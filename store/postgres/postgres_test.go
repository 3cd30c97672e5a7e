package postgres

import (
	"context"
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
