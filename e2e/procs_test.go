//go:build e2e

package e2e

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

// Bounds for the polling waits. They are generous because CI machines are
// slow; a passing test never waits for them to run out.
const (
	startTimeout   = 15 * time.Second
	arriveTimeout  = 20 * time.Second
	stopTimeout    = 20 * time.Second
	pollInterval   = 20 * time.Millisecond
	commandTimeout = 30 * time.Second
)

// tool returns the path of an external program, or skips the test naming
// the Debian package that provides it. /usr/sbin is searched too, since it
// is not on every user's PATH.
func tool(t *testing.T, name, pkg string) string {
	t.Helper()
	if p, err := exec.LookPath(name); err == nil {
		return p
	}
	for _, dir := range []string{"/usr/sbin", "/usr/bin", "/usr/local/sbin"} {
		p := dir + "/" + name
		if st, err := os.Stat(p); err == nil && st.Mode()&0o111 != 0 {
			return p
		}
	}
	t.Skipf("%s not found (install the Debian package %s); skipping", name, pkg)
	return ""
}

// needServe skips when the binary has no serve subcommand yet.
func needServe(t *testing.T) {
	t.Helper()
	if !hasServe {
		t.Skip("vacationd has no serve subcommand in this build; skipping")
	}
}

// handedOut holds the ports freeAddr returned, so that it never returns
// one twice in this process: a port closed after the probe may well be
// the kernel's next answer.
var handedOut = struct {
	sync.Mutex
	ports map[string]bool
}{ports: map[string]bool{}}

// freeAddr returns a 127.0.0.1 address that nothing listens on right now
// and that no other caller got.
func freeAddr(t *testing.T) string {
	t.Helper()
	handedOut.Lock()
	defer handedOut.Unlock()
	for range 100 {
		l, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatalf("free port: %v", err)
		}
		addr := l.Addr().String()
		l.Close()
		if !handedOut.ports[addr] {
			handedOut.ports[addr] = true
			return addr
		}
	}
	t.Fatal("free port: 100 tries gave only ports already handed out")
	return ""
}

// waitFor polls cond until it holds, failing the test after timeout.
func waitFor(t *testing.T, timeout time.Duration, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out after %s waiting for %s", timeout, what)
		}
		time.Sleep(pollInterval)
	}
}

// waitListening waits until addr accepts TCP connections, or p exits.
func waitListening(t *testing.T, p *proc, addr string) {
	t.Helper()
	waitFor(t, startTimeout, p.name+" listening on "+addr, func() bool {
		if p.exited() {
			t.Fatalf("%s exited before listening on %s: %v\n%s", p.name, addr, p.err, p.out.String())
		}
		c, err := net.DialTimeout("tcp", addr, time.Second)
		if err != nil {
			return false
		}
		c.Close()
		return true
	})
}

// syncBuffer collects a process's output.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// proc is an external program started by a test. Its output goes to out;
// the test's cleanup kills it if it still runs and prints its output when
// the test failed.
type proc struct {
	name string
	cmd  *exec.Cmd
	out  *syncBuffer
	done chan struct{}
	err  error // the Wait result, once done is closed
}

// startProc starts a program; out may be shared between restarts.
func startProc(t *testing.T, name string, out *syncBuffer, env []string, path string, args ...string) *proc {
	t.Helper()
	if out == nil {
		out = &syncBuffer{}
	}
	cmd := exec.Command(path, args...)
	cmd.Stdout, cmd.Stderr = out, out
	cmd.Env = append(os.Environ(), env...)
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	if err := cmd.Start(); err != nil {
		t.Fatalf("start %s: %v", name, err)
	}
	p := &proc{name: name, cmd: cmd, out: out, done: make(chan struct{})}
	go func() {
		p.err = cmd.Wait()
		close(p.done)
	}()
	t.Cleanup(func() {
		p.kill()
		if t.Failed() {
			t.Logf("--- %s (%s) output:\n%s", name, strings.Join(cmd.Args, " "), out.String())
		}
	})
	return p
}

func (p *proc) exited() bool {
	select {
	case <-p.done:
		return true
	default:
		return false
	}
}

// kill sends SIGKILL and waits for the exit.
func (p *proc) kill() {
	if p.exited() {
		return
	}
	p.cmd.Process.Signal(syscall.SIGKILL)
	<-p.done
}

// terminate sends SIGTERM and returns the exit error, or an error when the
// program has not exited after stopTimeout (it is killed then).
func (p *proc) terminate() error {
	if p.exited() {
		return fmt.Errorf("%s had already exited: %v", p.name, p.err)
	}
	p.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-p.done:
		return p.err
	case <-time.After(stopTimeout):
		p.kill()
		return fmt.Errorf("%s still running %s after SIGTERM; killed", p.name, stopTimeout)
	}
}

// runCmd runs a short-lived program and returns its combined output.
func runCmd(t *testing.T, path string, args ...string) (string, error) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), commandTimeout)
	defer cancel()
	out, err := exec.CommandContext(ctx, path, args...).CombinedOutput()
	if errors.Is(ctx.Err(), context.DeadlineExceeded) {
		t.Fatalf("%s %s: no exit after %s\n%s", path, strings.Join(args, " "), commandTimeout, out)
	}
	return string(out), err
}
