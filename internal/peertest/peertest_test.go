package peertest

import (
	"fmt"
	"runtime"
	"syscall"
	"testing"
	"time"
)

func TestFreeAddrNeverTwice(t *testing.T) {
	seen := map[string]bool{}
	for range 50 {
		a := FreeAddr(t)
		if seen[a] {
			t.Fatalf("FreeAddr returned %s twice", a)
		}
		seen[a] = true
	}
}

func TestToolSkipsWhenAbsent(t *testing.T) {
	t.Setenv("CI", "")
	var skipped bool
	t.Run("absent", func(t *testing.T) {
		defer func() { skipped = t.Skipped() }()
		Tool(t, "vacationd-peertest-no-such-program", "none")
	})
	if !skipped {
		t.Fatal("Tool did not skip for a missing program")
	}
}

// recorder is a testing.TB that records how a test ended.
type recorder struct {
	testing.TB
	fatal, skip string
}

func (r *recorder) Helper() {}
func (r *recorder) Fatalf(format string, args ...any) {
	r.fatal = fmt.Sprintf(format, args...)
	runtime.Goexit()
}
func (r *recorder) Skipf(format string, args ...any) {
	r.skip = fmt.Sprintf(format, args...)
	runtime.Goexit()
}

// TestToolFailsInCI: in CI a missing peer fails the test, it never skips.
func TestToolFailsInCI(t *testing.T) {
	for _, ci := range []string{"true", "1"} {
		t.Setenv("CI", ci)
		r := &recorder{TB: t}
		done := make(chan struct{})
		go func() {
			defer close(done)
			Tool(r, "vacationd-peertest-no-such-program", "none")
		}()
		<-done
		if r.fatal == "" || r.skip != "" {
			t.Errorf("CI=%s: fatal %q, skip %q; want a failure naming the package", ci, r.fatal, r.skip)
		}
	}
}

func TestProcStop(t *testing.T) {
	sh := Tool(t, "sh", "dash")
	p := StartProc(t, "sh", nil, nil, sh, "-c", "echo started; exec sleep 60")
	WaitFor(t, 10*time.Second, "sh output", func() bool { return p.Out.String() == "started\n" })
	if err := p.Stop(syscall.SIGTERM, 10*time.Second); err == nil {
		t.Fatal("Stop: nil error for a program killed by a signal")
	}
	if !p.Exited() || p.Err() == nil {
		t.Fatalf("after Stop: exited %v, err %v", p.Exited(), p.Err())
	}
}
