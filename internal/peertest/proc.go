package peertest

import (
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"strings"
	"syscall"
	"testing"
	"time"
)

// Proc is an external program started by a test. Its output goes to Out;
// the test's cleanup kills it if it still runs and logs its output when
// the test failed.
type Proc struct {
	Name string
	Cmd  *exec.Cmd
	Out  *SyncBuffer
	done chan struct{}
	err  error // the Wait result, once done is closed
}

// StartProc starts a program in its own process group, with env added to
// ours; out may be shared between restarts (nil for a fresh buffer).
func StartProc(t testing.TB, name string, out *SyncBuffer, env []string, path string, args ...string) *Proc {
	t.Helper()
	if out == nil {
		out = &SyncBuffer{}
	}
	cmd := exec.Command(path, args...)
	cmd.Env = append(os.Environ(), env...)
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	return StartCmd(t, name, out, cmd)
}

// StartCmd is StartProc for a prepared command (one that runs as another
// user, say); its output goes to out (nil for a fresh buffer).
func StartCmd(t testing.TB, name string, out *SyncBuffer, cmd *exec.Cmd) *Proc {
	t.Helper()
	if out == nil {
		out = &SyncBuffer{}
	}
	cmd.Stdout, cmd.Stderr = out, out
	if err := cmd.Start(); err != nil {
		t.Fatalf("start %s: %v", name, err)
	}
	p := &Proc{Name: name, Cmd: cmd, Out: out, done: make(chan struct{})}
	go func() {
		p.err = cmd.Wait()
		close(p.done)
	}()
	t.Cleanup(func() {
		p.Kill()
		if t.Failed() {
			t.Logf("--- %s (%s) output:\n%s", name, strings.Join(cmd.Args, " "), out.String())
		}
	})
	return p
}

// Exited reports whether the program has exited.
func (p *Proc) Exited() bool {
	select {
	case <-p.done:
		return true
	default:
		return false
	}
}

// Err is the program's exit error once it has exited, nil before.
func (p *Proc) Err() error {
	if !p.Exited() {
		return nil
	}
	return p.err
}

// Kill sends SIGKILL and waits for the exit.
func (p *Proc) Kill() {
	if p.Exited() {
		return
	}
	p.Cmd.Process.Signal(syscall.SIGKILL)
	<-p.done
}

// Stop sends sig and returns the exit error, or an error when the program
// has not exited after timeout (it is killed then).
func (p *Proc) Stop(sig os.Signal, timeout time.Duration) error {
	if p.Exited() {
		return fmt.Errorf("%s had already exited: %v", p.Name, p.err)
	}
	p.Cmd.Process.Signal(sig)
	select {
	case <-p.done:
		return p.err
	case <-time.After(timeout):
		p.Kill()
		return fmt.Errorf("%s still running %s after signal %q; killed", p.Name, timeout, sig)
	}
}

// WaitDial waits until addr on network ("tcp", "unix") accepts
// connections, failing the test when the program exits first or timeout
// passes.
func (p *Proc) WaitDial(t testing.TB, timeout time.Duration, network, addr string) {
	t.Helper()
	WaitFor(t, timeout, p.Name+" listening on "+addr, func() bool {
		if p.Exited() {
			t.Fatalf("%s exited before listening on %s: %v\n%s", p.Name, addr, p.err, p.Out.String())
		}
		c, err := net.DialTimeout(network, addr, time.Second)
		if err != nil {
			return false
		}
		c.Close()
		return true
	})
}

// RunCmd runs a short-lived program and returns its combined output and
// exit error; it fails the test when the program has not exited after
// timeout.
func RunCmd(t testing.TB, timeout time.Duration, path string, args ...string) (string, error) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	out, err := exec.CommandContext(ctx, path, args...).CombinedOutput()
	if errors.Is(ctx.Err(), context.DeadlineExceeded) {
		t.Fatalf("%s %s: no exit after %s\n%s", path, strings.Join(args, " "), timeout, out)
	}
	return string(out), err
}
