package store

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
)

const fullDiskEnv = "VACATIOND_STORE_FULL_DISK_DB"

// TestFullDiskChild is the child half of TestPingFullDisk: it lowers its
// own file size limit (RLIMIT_FSIZE, so the file cannot grow, as on a full
// disk), commits until a commit fails, checks that Ping fails, raises the
// limit and checks that Ping succeeds again. It prints "PASS-CHILD" when all
// held.
func TestFullDiskChild(t *testing.T) {
	path := os.Getenv(fullDiskEnv)
	if path == "" {
		t.Skip("child process of TestPingFullDisk only")
	}
	db, err := Open(path, Options{NoSync: true})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	ctx := context.Background()
	if err := db.Ping(ctx); err != nil {
		t.Fatalf("Ping on a fresh file: %v", err)
	}
	unlimit := limitFileSize(t, path)
	var failed error
	for i := 0; i < 1000 && failed == nil; i++ {
		r := testRecord(i)
		r.Message = make([]byte, 64<<10)
		failed = db.Commit(ctx, nil, []*OutboxRecord{r})
	}
	if failed == nil {
		t.Fatal("no commit failed with the file size limited")
	}
	if n := db.CommitFailures(); n == 0 {
		t.Fatalf("CommitFailures = 0 after the commit failure %v", failed)
	}
	if err := db.Ping(ctx); err == nil {
		t.Fatalf("Ping nil after the commit failure %v", failed)
	} else {
		fmt.Println("ping while full:", err)
	}
	unlimit()
	if err := db.Ping(ctx); err != nil {
		t.Fatalf("Ping after the disk has room again: %v", err)
	}
	if err := db.Commit(ctx, nil, []*OutboxRecord{testRecord(5000)}); err != nil {
		t.Fatalf("commit after the disk has room again: %v", err)
	}
	if err := db.Check(); err != nil {
		t.Fatal(err)
	}
	fmt.Println("PASS-CHILD")
}

// TestPingFullDisk: Ping (behind /healthz) fails while commits fail for
// lack of room and recovers by itself when there is room again. It runs in
// a child process since the file size limit is the whole process's.
func TestPingFullDisk(t *testing.T) {
	runFullDiskChild(t, "TestFullDiskChild", fullDiskEnv)
}

// runFullDiskChild runs the test named child in a child process with env
// naming a database file in a temporary directory, and fails unless it
// prints PASS-CHILD.
func runFullDiskChild(t *testing.T, child, env string) {
	t.Helper()
	cmd := exec.Command(os.Args[0], "-test.run=^"+child+"$", "-test.v", "-test.timeout=2m")
	cmd.Env = append(os.Environ(), env+"="+filepath.Join(t.TempDir(), "vacationd.db"))
	out, err := cmd.CombinedOutput()
	if err != nil || !strings.Contains(string(out), "PASS-CHILD") {
		t.Fatalf("child: %v\n%s", err, out)
	}
	t.Logf("%s", out)
}

// limitFileSize lowers this process's file size limit (RLIMIT_FSIZE) to
// the size of the file at path, so it cannot grow, as on a full disk, and
// returns the function that raises it again.
func limitFileSize(t *testing.T, path string) (unlimit func()) {
	t.Helper()
	fi, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	// Past the limit a write fails with EFBIG instead of killing us.
	signal.Ignore(syscall.SIGXFSZ)
	var old syscall.Rlimit
	if err := syscall.Getrlimit(syscall.RLIMIT_FSIZE, &old); err != nil {
		t.Fatal(err)
	}
	lim := syscall.Rlimit{Cur: uint64(fi.Size()), Max: old.Max}
	if err := syscall.Setrlimit(syscall.RLIMIT_FSIZE, &lim); err != nil {
		t.Fatal(err)
	}
	return func() {
		if err := syscall.Setrlimit(syscall.RLIMIT_FSIZE, &old); err != nil {
			t.Fatal(err)
		}
	}
}
