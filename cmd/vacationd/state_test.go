package main

import (
	"bytes"
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/vacationd/vacationd/internal/peertest"
	"github.com/vacationd/vacationd/store"
	"github.com/vacationd/vacationd/store/postgres"
)

// TestStatePostgres: with --state, migrate applies the schema once, and
// the dedup and outbox commands and the HTTP endpoints work on the
// PostgreSQL state while a service (here a handle the test holds) has it
// open; /healthz fails while the database is down and recovers with it.
func TestStatePostgres(t *testing.T) {
	pg := peertest.StartPostgres(t, 30*time.Second, false)
	url := pg.CreateDB(t)
	run1 := func(args ...string) (int, string, string) {
		var out, errOut bytes.Buffer
		code := run(args, &out, &errOut)
		return code, out.String(), errOut.String()
	}
	if code, out, errOut := run1("migrate", "--state", url); code != 0 || !strings.Contains(out, "applied 0001_init.sql") {
		t.Fatalf("migrate = %d\n%s%s", code, out, errOut)
	}
	if code, out, _ := run1("migrate", "--state", url); code != 0 || strings.Contains(out, "applied") || !strings.Contains(out, fmt.Sprintf("version %d", postgres.SchemaVersion())) {
		t.Errorf("second migrate = %d\n%s", code, out)
	}
	if code, _, errOut := run1("migrate", "--state", "mysql://x"); code != 2 || !strings.Contains(errOut, "postgres://") {
		t.Errorf("migrate with a bad URL = %d %s", code, errOut)
	}

	svc, err := postgres.Open(context.Background(), url, postgres.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer svc.Close()
	now := time.Now()
	rec := &store.OutboxRecord{To: []string{"bob@example.org"}, Message: []byte("Subject: Away\r\n\r\nx\r\n"), Kind: store.KindVacation, User: "alice@example.com"}
	marks := []store.Mark{{Key: store.DedupKey{User: "alice@example.com", Sender: "bob@example.org", Handle: "h"}, Created: now, Expires: now.Add(time.Hour), Reply: rec}}
	if err := svc.Commit(context.Background(), marks, []*store.OutboxRecord{rec}); err != nil {
		t.Fatal(err)
	}
	id := fmt.Sprint(rec.ID)
	script := filepath.Join(t.TempDir(), "v.sieve")
	if err := os.WriteFile(script, []byte("require \"vacation\";\nvacation \"away\";\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	t.Setenv("VACATIOND_STATE", url)
	for _, tc := range []struct {
		args []string
		code int
		out  string
	}{
		{[]string{"dedup", "list", "alice@example.com"}, 0, "bob@example.org"},
		{[]string{"outbox", "list"}, 0, "1 record"},
		{[]string{"outbox", "show", id}, 0, "Subject: Away"},
		{[]string{"outbox", "retry", id}, 0, "due now"},
		{[]string{"dedup", "forget", "alice@example.com", "bob@example.org"}, 0, "forgot 1 dedup record"},
		{[]string{"outbox", "drop", id}, 0, "dropped outbox record " + id},
		{[]string{"outbox", "dropped"}, 0, "dropped by operator"},
		{[]string{"outbox", "show", id}, 1, ""},
		{[]string{"script", "put", "alice@example.com", "v", script}, 0, ""},
		{[]string{"script", "activate", "alice@example.com", "v"}, 0, "active script"},
		{[]string{"script", "rename", "alice@example.com", "v", "w"}, 0, "renamed v to w"},
		{[]string{"script", "list", "alice@example.com"}, 0, "ACTIVE"},
	} {
		code, out, errOut := run1(tc.args...)
		if code != tc.code || !strings.Contains(out, tc.out) {
			t.Errorf("%v = %d\n%s%s\nwant %d with %q", tc.args, code, out, errOut, tc.code, tc.out)
		}
	}
	// A record a replica's relay holds is left alone by retry.
	rec2 := &store.OutboxRecord{To: []string{"c@example.org"}, Message: []byte("x"), Kind: store.KindRedirect, User: "alice@example.com"}
	if err := svc.Commit(context.Background(), nil, []*store.OutboxRecord{rec2}); err != nil {
		t.Fatal(err)
	}
	if _, err := svc.Claim(context.Background(), time.Now(), 0, time.Minute); err != nil {
		t.Fatal(err)
	}
	if code, _, errOut := run1("outbox", "retry", fmt.Sprint(rec2.ID)); code != 1 || !strings.Contains(errOut, "being sent") {
		t.Errorf("retry of a leased record = %d %s", code, errOut)
	}

	h := httpHandler(newRegistry(), svc, time.Hour)
	get := func(path string) int {
		w := httptest.NewRecorder()
		h.ServeHTTP(w, httptest.NewRequest(http.MethodGet, path, nil))
		return w.Code
	}
	if c := get("/healthz"); c != 200 {
		t.Errorf("/healthz = %d with the database up", c)
	}
	if c := get("/outbox"); c != 200 {
		t.Errorf("/outbox = %d", c)
	}
	if c := get("/dedup?user=alice@example.com"); c != 200 {
		t.Errorf("/dedup = %d", c)
	}
	// The service runs the script the CLI stored (--script-source store).
	if sc, err := svc.ActiveScript("alice@example.com"); err != nil || sc.Name != "w" {
		t.Errorf("the service's active script = %+v, %v; want w", sc, err)
	}
	pg.Stop(t, 30*time.Second)
	if c := get("/healthz"); c != http.StatusServiceUnavailable {
		t.Errorf("/healthz = %d with the database down, want 503", c)
	}
	pg.Start(t, 30*time.Second)
	peertest.WaitFor(t, 30*time.Second, "/healthz to recover", func() bool { return get("/healthz") == 200 })
}
