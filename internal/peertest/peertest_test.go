package peertest

import (
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
	var skipped bool
	t.Run("absent", func(t *testing.T) {
		defer func() { skipped = t.Skipped() }()
		Tool(t, "vacationd-peertest-no-such-program", "none")
	})
	if !skipped {
		t.Fatal("Tool did not skip for a missing program")
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
