package peertest

import (
	"context"
	"fmt"
	"net"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"sort"
	"strconv"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
)

// Postgres is a throwaway PostgreSQL cluster on 127.0.0.1: initdb in a
// temporary directory, the server on a free port, trust authentication
// for the superuser "postgres". Run as root, it runs as the user postgres
// (the server refuses root).
type Postgres struct {
	Addr string // host:port

	bin, data string
	cred      *syscall.Credential
	out       *SyncBuffer
	proc      *Proc
	fsync     bool
	dbs       atomic.Int64
}

// PostgresBin returns the directory of the newest installed PostgreSQL
// server binaries. When there are none it skips the test, or fails it in
// CI (CI=true), where the peer must be installed.
func PostgresBin(t testing.TB) string {
	t.Helper()
	dirs, _ := filepath.Glob("/usr/lib/postgresql/*/bin")
	var found []string
	for _, d := range dirs {
		if _, err := os.Stat(filepath.Join(d, "initdb")); err == nil {
			found = append(found, d)
		}
	}
	if len(found) == 0 {
		if os.Getenv("CI") == "true" {
			t.Fatal("PostgreSQL server not found under /usr/lib/postgresql/*/bin: install the Debian package postgresql")
		}
		t.Skip("PostgreSQL server not found (install the Debian package postgresql); skipping")
	}
	sort.Slice(found, func(i, j int) bool {
		vi, _ := strconv.Atoi(filepath.Base(filepath.Dir(found[i])))
		vj, _ := strconv.Atoi(filepath.Base(filepath.Dir(found[j])))
		return vi < vj
	})
	return found[len(found)-1]
}

// StartPostgres creates a cluster and starts it, waiting up to start. With
// fsync false the server does not flush (fast, for contract tests); true
// is for benchmarks and crash tests. The test's cleanup stops it.
func StartPostgres(t testing.TB, start time.Duration, fsync bool) *Postgres {
	t.Helper()
	p := &Postgres{bin: PostgresBin(t), out: &SyncBuffer{}, fsync: fsync}
	dir := SharedDir(t, "vacationd-peertest-pg-", 0o700)
	if os.Geteuid() == 0 {
		u, err := user.Lookup("postgres")
		if err != nil {
			t.Fatalf("running as root, the server needs the user postgres: %v", err)
		}
		uid, _ := strconv.Atoi(u.Uid)
		gid, _ := strconv.Atoi(u.Gid)
		p.cred = &syscall.Credential{Uid: uint32(uid), Gid: uint32(gid)}
		if err := os.Chown(dir, uid, gid); err != nil {
			t.Fatal(err)
		}
	}
	p.data = filepath.Join(dir, "data")
	initdb := p.command(filepath.Join(p.bin, "initdb"), "-D", p.data, "-A", "trust", "-U", "postgres",
		"-E", "UTF8", "--locale=C", "--no-sync")
	if out, err := initdb.CombinedOutput(); err != nil {
		t.Fatalf("initdb: %v\n%s", err, out)
	}
	p.Addr = FreeAddr(t)
	p.Start(t, start)
	return p
}

func (p *Postgres) command(path string, args ...string) *exec.Cmd {
	cmd := exec.Command(path, args...)
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true, Credential: p.cred}
	cmd.Env = append(os.Environ(), "LC_ALL=C")
	return cmd
}

// Start starts the server (again, after Stop) on the same port and data,
// and waits up to start for it to accept connections.
func (p *Postgres) Start(t testing.TB, start time.Duration) {
	t.Helper()
	_, port, _ := net.SplitHostPort(p.Addr)
	fsync := "off"
	if p.fsync {
		fsync = "on"
	}
	cmd := p.command(filepath.Join(p.bin, "postgres"), "-D", p.data, "-p", port,
		"-c", "listen_addresses=127.0.0.1", "-c", "unix_socket_directories="+filepath.Dir(p.data),
		"-c", "fsync="+fsync, "-c", "max_connections=300", "-c", "shared_buffers=32MB")
	proc := StartCmd(t, "postgres", p.out, cmd)
	p.proc = proc
	// Before StartCmd's SIGKILL: a fast shutdown, so the server leaves no
	// shared memory behind.
	t.Cleanup(func() {
		if !proc.Exited() {
			proc.Stop(syscall.SIGINT, 10*time.Second)
		}
	})
	p.proc.WaitDial(t, start, "tcp", p.Addr)
	WaitFor(t, start, "postgres accepting queries", func() bool {
		ctx, cancel := context.WithTimeout(context.Background(), time.Second)
		defer cancel()
		c, err := pgx.Connect(ctx, p.URL("postgres"))
		if err != nil {
			return false
		}
		c.Close(ctx)
		return true
	})
}

// Stop shuts the server down fast (SIGINT: open transactions roll back),
// or kills it when it has not stopped after timeout.
func (p *Postgres) Stop(t testing.TB, timeout time.Duration) {
	t.Helper()
	if err := p.proc.Stop(syscall.SIGINT, timeout); err != nil {
		t.Logf("postgres stop: %v", err)
	}
}

// URL is the connection URL of database db.
func (p *Postgres) URL(db string) string {
	return fmt.Sprintf("postgres://postgres@%s/%s?sslmode=disable", p.Addr, db)
}

// CreateDB creates a fresh, empty database and returns its URL.
func (p *Postgres) CreateDB(t testing.TB) string {
	t.Helper()
	name := fmt.Sprintf("t%d", p.dbs.Add(1))
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	c, err := pgx.Connect(ctx, p.URL("postgres"))
	if err != nil {
		t.Fatalf("postgres: %v", err)
	}
	defer c.Close(ctx)
	if _, err := c.Exec(ctx, "CREATE DATABASE "+name); err != nil {
		t.Fatalf("create database %s: %v", name, err)
	}
	return p.URL(name)
}

// Output is the server's log so far.
func (p *Postgres) Output() string { return p.out.String() }
