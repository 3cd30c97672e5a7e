package main

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/vacationd/vacationd/store"
)

func TestHTTPEndpoints(t *testing.T) {
	db := openTestDB(t)
	now := time.Now()
	mark := store.Mark{Key: store.DedupKey{User: "bob@example.com", Sender: "alice@example.org", Handle: "h"}, Created: now, Expires: now.Add(time.Hour)}
	rec := &store.OutboxRecord{To: []string{"alice@example.org"}, Message: []byte("Subject: x\r\n\r\nx\r\n"), Kind: store.KindVacation, User: "bob@example.com"}
	if err := db.Commit(context.Background(), []store.Mark{mark}, []*store.OutboxRecord{rec}); err != nil {
		t.Fatal(err)
	}
	reg := prometheus.NewRegistry()
	reg.MustRegister(prometheus.NewGaugeFunc(prometheus.GaugeOpts{Name: "vacationd_test_gauge", Help: "A gauge."}, func() float64 { return 1 }))
	srv := httptest.NewServer(httpHandler(reg, db, time.Hour))
	defer srv.Close()

	do := func(method, path string) (int, string) {
		t.Helper()
		req, _ := http.NewRequest(method, srv.URL+path, nil)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, string(b)
	}
	cases := []struct {
		method, path string
		code         int
		body         string
	}{
		{"GET", "/healthz", 200, "ok"},
		{"GET", "/metrics", 200, "vacationd_test_gauge 1"},
		{"GET", "/dedup?user=bob@example.com", 200, `"sender": "alice@example.org"`},
		{"GET", "/dedup?user=bob@example.com", 200, `"state": "active"`},
		{"GET", "/dedup", 400, `"error": "user parameter required"`},
		// A request the store refuses is the client's error, not the
		// server's (it answered 500).
		{"GET", "/dedup?user=bob%00@example.com", 400, "NUL byte"},
		{"DELETE", "/dedup?user=bob@example.com&sender=a%00@example.org", 400, "NUL byte"},
		{"GET", "/outbox", 200, `"to": [` + "\n" + `      "alice@example.org"`},
		{"GET", "/outbox", 200, `"from": "<>"`},
		{"GET", "/outbox", 200, `"next_attempt": "`},
		{"GET", "/outbox/dropped", 200, "[]"},
		{"GET", "/outbox/retry?id=1", 405, "POST only"},
		// The lists are read-only: another method must not look as if it
		// cleared or changed them.
		{"DELETE", "/outbox/dropped", 405, "GET only"},
		{"PUT", "/outbox", 405, "GET only"},
		{"POST", "/outbox", 405, "GET only"},
		{"POST", "/outbox/retry?id=x", 400, "id parameter"},
		{"POST", "/outbox/retry?id=99", 404, "not found"},
		{"POST", "/outbox/retry?id=1", 200, `"result": "due now"`},
		{"GET", "/outbox/flush", 405, "POST only"},
		{"POST", "/outbox/flush", 200, `"due_now": 0`}, // due already
		{"POST", "/outbox/drop?id=1", 200, `"result": "dropped"`},
		{"GET", "/outbox", 200, "[]"},
		{"GET", "/outbox/dropped", 200, `"reason": "dropped by operator"`},
		{"DELETE", "/dedup?user=bob@example.com", 200, `"forgot": 1`},
		{"GET", "/dedup?user=bob@example.com", 200, "[]"},
	}
	for _, c := range cases {
		code, body := do(c.method, c.path)
		if code != c.code || !strings.Contains(body, c.body) {
			t.Errorf("%s %s = %d %q, want %d containing %q", c.method, c.path, code, body, c.code, c.body)
		}
	}
}

func TestHealthzFailsOnOldOutbox(t *testing.T) {
	db := openTestDB(t)
	old := time.Now().Add(-2 * time.Hour)
	rec := &store.OutboxRecord{To: []string{"a@example.org"}, Message: []byte("x\r\n"), Kind: store.KindVacation, Queued: old}
	if err := db.Commit(context.Background(), nil, []*store.OutboxRecord{rec}); err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(httpHandler(prometheus.NewRegistry(), db, time.Hour))
	defer srv.Close()
	resp, err := http.Get(srv.URL + "/healthz")
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 503 || !strings.Contains(string(b), "is the relay down") {
		t.Fatalf("healthz = %d %q, want 503 naming the relay", resp.StatusCode, b)
	}
}

// An operator's retry of a record a relay worker is sending must not end
// the worker's lease: the dispatcher would hand the record to a second
// worker and the reply would go out twice.
func TestHTTPRetryLeavesARecordBeingSentAlone(t *testing.T) {
	db := openTestDB(t)
	rec := &store.OutboxRecord{To: []string{"a@example.org"}, Message: []byte("x\r\n"), Kind: store.KindVacation}
	if err := db.Commit(context.Background(), nil, []*store.OutboxRecord{rec}); err != nil {
		t.Fatal(err)
	}
	if recs, err := db.Claim(context.Background(), time.Now(), 0, 0); err != nil || len(recs) != 1 {
		t.Fatalf("Claim = %v, %v", recs, err)
	}
	srv := httptest.NewServer(httpHandler(prometheus.NewRegistry(), db, time.Hour))
	defer srv.Close()
	resp, err := http.Post(srv.URL+"/outbox/retry?id=1", "", nil)
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusConflict {
		t.Errorf("retry of a record being sent = %d %q, want 409", resp.StatusCode, b)
	}
	if again, err := db.Claim(context.Background(), time.Now(), 0, 0); err != nil || len(again) != 0 {
		t.Fatalf("record claimed twice while being sent: %v, %v", again, err)
	}
}

// openTestDB opens a store in a temporary directory, closed when the test ends.
func openTestDB(t *testing.T) *store.DB {
	t.Helper()
	db, err := store.Open(filepath.Join(t.TempDir(), "vacationd.db"), store.Options{NoSync: true})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	return db
}

// TestHealthzChecks: a check's line shows under "ok" while it passes, and
// its failure turns /healthz 503 with the line.
func TestHealthzChecks(t *testing.T) {
	db := openTestDB(t)
	line, failed := "", false
	srv := httptest.NewServer(httpHandler(prometheus.NewRegistry(), db, time.Hour,
		func() (string, bool) { return line, failed }))
	defer srv.Close()
	get := func() (int, string) {
		resp, err := http.Get(srv.URL + "/healthz")
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, string(b)
	}
	if code, body := get(); code != 200 || body != "ok\n" {
		t.Errorf("%d %q", code, body)
	}
	line = "relay: 3 consecutive failures"
	if code, body := get(); code != 200 || body != "ok\n"+line+"\n" {
		t.Errorf("%d %q", code, body)
	}
	failed = true
	if code, body := get(); code != 503 || !strings.Contains(body, line) {
		t.Errorf("%d %q", code, body)
	}
}

// TestHTTPStoreErrorCodes: a request the store refuses as invalid is the
// client's error (400), a store that fails is the server's (500): PUT
// /metadata answered 400 for both, so a client took a database outage for
// a bad request and did not retry.
func TestHTTPStoreErrorCodes(t *testing.T) {
	db := openTestDB(t)
	srv := httptest.NewServer(httpHandler(prometheus.NewRegistry(), db, time.Hour))
	defer srv.Close()
	do := func(method, path, body string) int {
		t.Helper()
		req, _ := http.NewRequest(method, srv.URL+path, strings.NewReader(body))
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		return resp.StatusCode
	}
	if code := do("PUT", "/metadata?user=bob@example.com&entry=/private/x", strings.Repeat("x", 64<<10+1)); code != 400 {
		t.Errorf("PUT /metadata of a value too large: %d, want 400", code)
	}
	db.Close()
	for _, c := range []struct{ method, path string }{
		{"PUT", "/metadata?user=bob@example.com&entry=/private/x"},
		{"DELETE", "/metadata?user=bob@example.com&entry=/private/x"},
		{"GET", "/metadata?user=bob@example.com"},
		{"GET", "/dedup?user=bob@example.com"},
	} {
		if code := do(c.method, c.path, "v"); code != 500 {
			t.Errorf("%s %s with the store closed: %d, want 500", c.method, c.path, code)
		}
	}
}
