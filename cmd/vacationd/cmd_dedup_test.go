package main

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/vacationd/vacationd/store"
)

// seedStore creates DIR/vacationd.db with two dedup records for alice, one
// for bob, and two outbox records, and returns DIR and the record IDs.
func seedStore(t *testing.T) (string, []uint64) {
	t.Helper()
	dir := t.TempDir()
	db, err := store.Open(filepath.Join(dir, "vacationd.db"), store.Options{NoSync: true})
	if err != nil {
		t.Fatal(err)
	}
	now := time.Now()
	marks := []store.Mark{
		{Key: store.DedupKey{User: "alice@example.com", Sender: "bob@example.org", Handle: "h1"}, Created: now, Expires: now.Add(7 * 24 * time.Hour)},
		{Key: store.DedupKey{User: "alice@example.com", Sender: "carol@example.org", Handle: "odd\thandle"}, Created: now.Add(-48 * time.Hour), Expires: now.Add(-24 * time.Hour)},
		{Key: store.DedupKey{User: "bob@example.com", Sender: "alice@example.com", Handle: ""}, Created: now, Expires: now.Add(time.Hour)},
	}
	recs := []*store.OutboxRecord{
		{To: []string{"bob@example.org"}, Message: []byte("Subject: Away\r\n\r\nback monday\r\n"), Kind: store.KindVacation,
			User: "alice@example.com", NextAttempt: now.Add(time.Hour)},
		{From: "x@example.net", To: []string{"a@example.net", "b@example.net"}, Message: []byte("Subject: fwd\r\n\r\n"), Kind: store.KindRedirect,
			User: "bob@example.com"},
	}
	if err := db.Commit(context.Background(), marks, recs); err != nil {
		t.Fatal(err)
	}
	if err := db.Retry(recs[0].ID, now.Add(time.Hour), "451 4.3.0 relay\r\nbusy"); err != nil {
		t.Fatal(err)
	}
	if err := db.Close(); err != nil {
		t.Fatal(err)
	}
	return dir, []uint64{recs[0].ID, recs[1].ID}
}

type cliCase struct {
	name       string
	args       []string // "DIR" is replaced by the data directory
	code       int
	out, noOut []string
	errOut     string
}

func runCLICases(t *testing.T, dir string, cases []cliCase) {
	t.Helper()
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			args := make([]string, len(tc.args))
			for i, a := range tc.args {
				args[i] = strings.ReplaceAll(a, "DIR", dir)
			}
			var stdout, stderr bytes.Buffer
			code := run(args, &stdout, &stderr)
			if code != tc.code {
				t.Errorf("exit %d, want %d\nstdout:\n%s\nstderr:\n%s", code, tc.code, stdout.String(), stderr.String())
			}
			for _, s := range tc.out {
				if !strings.Contains(stdout.String(), s) {
					t.Errorf("stdout lacks %q:\n%s", s, stdout.String())
				}
			}
			for _, s := range tc.noOut {
				if strings.Contains(stdout.String(), s) {
					t.Errorf("stdout has %q:\n%s", s, stdout.String())
				}
			}
			if errOut := strings.ReplaceAll(tc.errOut, "DIR", dir); !strings.Contains(stderr.String(), errOut) {
				t.Errorf("stderr lacks %q:\n%s", errOut, stderr.String())
			}
			if tc.errOut == "" && stderr.Len() != 0 {
				t.Errorf("unexpected stderr:\n%s", stderr.String())
			}
		})
	}
}

func TestDedupCommand(t *testing.T) {
	dir, _ := seedStore(t)
	runCLICases(t, dir, []cliCase{
		{name: "list user", args: []string{"dedup", "list", "--data", "DIR", "Alice@Example.com"},
			out:   []string{"SENDER", "bob@example.org", "h1", "active, 7d0h left", "carol@example.org", `"odd\thandle"`, "expired"},
			noOut: []string{"alice@example.com  "}},
		{name: "list sender, flag after args", args: []string{"dedup", "list", "alice@example.com", "BOB@example.org", "--data=DIR"},
			out: []string{"bob@example.org"}, noOut: []string{"carol"}},
		{name: "list none", args: []string{"dedup", "list", "--data", "DIR", "nobody@example.com"},
			out: []string{"no dedup records for nobody@example.com"}},
		{name: "forget sender", args: []string{"dedup", "forget", "--data", "DIR", "alice@example.com", "bob@example.org"},
			out: []string{"forgot 1 dedup record for alice@example.com from bob@example.org"}},
		{name: "forgotten", args: []string{"dedup", "list", "--data", "DIR", "alice@example.com"},
			out: []string{"carol@example.org"}, noOut: []string{"bob@example.org"}},
		{name: "forget all", args: []string{"dedup", "forget", "--data", "DIR", "alice@example.com"},
			out: []string{"forgot 1 dedup record for alice@example.com"}},
		{name: "other user kept", args: []string{"dedup", "list", "--data", "DIR", "bob@example.com"},
			out: []string{"alice@example.com", `""`}},
		{name: "no args", args: []string{"dedup"}, code: 2, errOut: "usage: vacationd dedup"},
		{name: "no user", args: []string{"dedup", "list", "--data", "DIR"}, code: 2, errOut: "want USER [SENDER]"},
		{name: "too many", args: []string{"dedup", "list", "--data", "DIR", "a", "b", "c"}, code: 2, errOut: "want USER [SENDER]"},
		{name: "bad subcommand", args: []string{"dedup", "purge", "a"}, code: 2, errOut: `unknown subcommand "purge"`},
		{name: "bad flag", args: []string{"dedup", "list", "--dat", "x", "a"}, code: 2, errOut: "flag provided but not defined"},
		{name: "missing db", args: []string{"dedup", "list", "--data", "DIR/nope", "a"}, code: 1, errOut: "no database at DIR/nope/vacationd.db"},
	})
}

func TestHumanDuration(t *testing.T) {
	tests := []struct {
		d    time.Duration
		want string
	}{
		{0, "0m"},
		{89 * time.Second, "1m"},
		{61 * time.Minute, "1h1m"},
		{7*24*time.Hour - time.Millisecond, "7d0h"},
		{50 * time.Hour, "2d2h"},
	}
	for _, tt := range tests {
		if got := humanDuration(tt.d); got != tt.want {
			t.Errorf("humanDuration(%v) = %q, want %q", tt.d, got, tt.want)
		}
	}
}

func TestStoreCommandsLocked(t *testing.T) {
	dir, _ := seedStore(t)
	db, err := store.Open(filepath.Join(dir, "vacationd.db"), store.Options{NoSync: true})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	runCLICases(t, dir, []cliCase{
		{name: "dedup", args: []string{"dedup", "list", "--data", "DIR", "a"}, code: 1, errOut: "locked by another process (is vacationd serve running?)"},
	})
}

func TestStoreCommandsEnvData(t *testing.T) {
	dir, _ := seedStore(t)
	t.Setenv("VACATIOND_DATA", dir)
	runCLICases(t, dir, []cliCase{
		{name: "env", args: []string{"outbox", "list"}, out: []string{"2 records"}},
	})
}

// TestStoreCommandsServeDefaults: the operator commands find the state
// where serve keeps it: --config FILE (or VACATIOND_CONFIG) is read for
// data and state as serve reads them, and without any the data directory
// is serve's default, not ./data.
func TestStoreCommandsServeDefaults(t *testing.T) {
	dir, _ := seedStore(t)
	cfg := filepath.Join(t.TempDir(), "vacationd.toml")
	if err := os.WriteFile(cfg, []byte("data = \""+dir+"\"\nrelay = \"127.0.0.1:25\"\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	t.Chdir(t.TempDir())
	runCLICases(t, dir, []cliCase{
		{name: "config", args: []string{"outbox", "list", "--config", cfg}, out: []string{"2 records"}},
		{name: "config after args", args: []string{"dedup", "list", "alice@example.com", "--config=" + cfg}, out: []string{"bob@example.org"}},
		{name: "flag over config", args: []string{"outbox", "list", "--config", cfg, "--data", "elsewhere"}, code: 1,
			errOut: "no database at elsewhere/vacationd.db"},
		{name: "bad config", args: []string{"outbox", "list", "--config", filepath.Join(dir, "none.toml")}, code: 1,
			errOut: "none.toml"},
	})
	if d, st, err := (storeArgs{}).resolve(nil); d != defaultDataDir || st != "" || err != nil {
		t.Errorf("no flags: data %q, state %q, %v; want serve's default %q", d, st, err, defaultDataDir)
	}
	t.Setenv("VACATIOND_CONFIG", cfg)
	runCLICases(t, dir, []cliCase{
		{name: "env config", args: []string{"script", "list", "alice@example.com"}, out: []string{"no scripts"}},
	})
}
