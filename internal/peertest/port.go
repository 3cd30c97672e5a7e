package peertest

import (
	"net"
	"sync"
	"testing"
)

// handedOut holds the ports FreeAddr returned, so that it never returns
// one twice in this process: a port closed after the probe may well be
// the kernel's next answer.
var handedOut = struct {
	sync.Mutex
	ports map[string]bool
}{ports: map[string]bool{}}

// FreeAddr returns a 127.0.0.1 address that nothing listens on right now
// and that no other caller in this process got.
func FreeAddr(t testing.TB) string {
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
