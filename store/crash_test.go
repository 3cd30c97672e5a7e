package store

import (
	"bufio"
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
)

const (
	crashEnvPath = "VACATIOND_STORE_CRASH_DB"
	crashEnvBase = "VACATIOND_STORE_CRASH_BASE"
)

// TestCrashChild is the child half of TestCrash: with crashEnvPath set it
// commits marks and records from several goroutines forever, printing
// "ok N" after each Commit for N returns, until it is killed.
func TestCrashChild(t *testing.T) {
	path := os.Getenv(crashEnvPath)
	if path == "" {
		t.Skip("child process of TestCrash only")
	}
	base, err := strconv.Atoi(os.Getenv(crashEnvBase))
	if err != nil {
		t.Fatal(err)
	}
	db, err := Open(path, Options{}) // real fsync
	if err != nil {
		fmt.Println("open:", err)
		os.Exit(1)
	}
	var out sync.Mutex
	for g := range 8 {
		go func() {
			for i := 0; ; i++ {
				n := base + g*100000 + i
				r := testRecord(n)
				m := mark("crash@x", r.To[0], "", t0, time.Hour)
				if err := db.Commit(context.Background(), []Mark{m}, []*OutboxRecord{r}); err != nil {
					fmt.Println("commit:", err)
					os.Exit(1)
				}
				out.Lock()
				fmt.Fprintf(os.Stdout, "ok %d\n", n) // one write(2) per line
				out.Unlock()
			}
		}()
	}
	select {}
}

// TestCrash kills a process that is committing (kill -9, no chance to
// close the file) and checks that every record whose Commit had returned
// is there on reopen, that each stored record has its mark (commits are
// atomic), and that the file is consistent. Several rounds reuse the file.
func TestCrash(t *testing.T) {
	if testing.Short() {
		t.Skip("re-executes the test binary")
	}
	path := filepath.Join(t.TempDir(), "vacationd.db")
	acked := map[string]bool{} // recipient of every acknowledged record
	const rounds, acksPerRound = 3, 200
	for round := range rounds {
		cmd := exec.Command(os.Args[0], "-test.run=^TestCrashChild$", "-test.timeout=2m")
		cmd.Env = append(os.Environ(), crashEnvPath+"="+path, fmt.Sprintf("%s=%d", crashEnvBase, round*1000000))
		stdout, err := cmd.StdoutPipe()
		if err != nil {
			t.Fatal(err)
		}
		cmd.Stderr = os.Stderr
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		lines := make(chan string)
		go func() {
			sc := bufio.NewScanner(stdout)
			for sc.Scan() {
				lines <- sc.Text()
			}
			close(lines)
		}()
		n, killed := 0, false
		deadline := time.After(30 * time.Second)
		for line := range lines {
			if rest, ok := strings.CutPrefix(line, "ok "); ok {
				acked[fmt.Sprintf("sender%s@example.org", rest)] = true
				n++
			} else if line != "" {
				t.Logf("child: %s", line)
			}
			if !killed && n >= acksPerRound {
				if err := cmd.Process.Kill(); err != nil {
					t.Fatal(err)
				}
				killed = true
			}
			select {
			case <-deadline:
				if !killed {
					cmd.Process.Kill()
					t.Fatalf("round %d: only %d acks in 30s", round, n)
				}
			default:
			}
		}
		cmd.Wait()
		if !killed {
			t.Fatalf("round %d: child exited after %d acks", round, n)
		}

		db, err := Open(path, Options{})
		if err != nil {
			t.Fatalf("round %d: reopen: %v", round, err)
		}
		if err := db.Check(); err != nil {
			t.Errorf("round %d: %v", round, err)
		}
		recs, err := db.ListOutbox()
		if err != nil {
			t.Fatal(err)
		}
		stored := map[string]bool{}
		for _, r := range recs {
			stored[r.To[0]] = true
			if seen, err := db.Seen(context.Background(), DedupKey{"crash@x", r.To[0], ""}, t0); err != nil || !seen {
				t.Errorf("round %d: record %d for %s stored without its mark", round, r.ID, r.To[0])
			}
		}
		lost := 0
		for to := range acked {
			if !stored[to] {
				lost++
			}
		}
		if lost > 0 {
			t.Errorf("round %d: %d of %d acknowledged records lost", round, lost, len(acked))
		}
		t.Logf("round %d: %d acknowledged so far, %d stored", round, len(acked), len(recs))
		if err := db.Close(); err != nil {
			t.Fatal(err)
		}
	}
}
