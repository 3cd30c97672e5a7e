package peertest

import (
	"fmt"
	"os"
	"path/filepath"
	"testing"
	"time"
)

// HAProxy is one TCP-mode HAProxy: a frontend on a free port forwarding
// to a single backend server, or round-robin to several.
type HAProxy struct {
	Bind    string // options after the frontend's address, e.g. "accept-proxy"
	Backend string // the server's address
	Server  string // options after the server's address, e.g. "send-proxy-v2"
	// Backends, when set instead of Backend, are servers taken in turn
	// (balance roundrobin); a server that refuses connections is skipped
	// (health checks every 200ms, redispatch on a failed connect).
	Backends []string

	// ClientTimeout is HAProxy's "timeout client": how long a client
	// connection may stay idle; zero means 30s.
	ClientTimeout time.Duration
}

// StartHAProxy runs h, waits up to start for its frontend to listen and
// returns the frontend's address. It skips when haproxy is absent.
func StartHAProxy(t testing.TB, start time.Duration, h HAProxy) string {
	t.Helper()
	path := Tool(t, "haproxy", "haproxy")
	if h.ClientTimeout == 0 {
		h.ClientTimeout = 30 * time.Second
	}
	front := FreeAddr(t)
	cfg := fmt.Sprintf(`global
    maxconn 256

defaults
    mode tcp
    timeout connect 5s
    timeout client %dms
    timeout server 30s

frontend peertest_in
    bind %s %s
    default_backend peertest_out

backend peertest_out
%s`, h.ClientTimeout.Milliseconds(), front, h.Bind, servers(h))
	file := filepath.Join(t.TempDir(), "haproxy.cfg")
	if err := os.WriteFile(file, []byte(cfg), 0o644); err != nil {
		t.Fatal(err)
	}
	p := StartProc(t, "haproxy", nil, nil, path, "-db", "-f", file)
	p.WaitDial(t, start, "tcp", front)
	return front
}

// servers is the backend section's body.
func servers(h HAProxy) string {
	if len(h.Backends) == 0 {
		return fmt.Sprintf("    server peer %s %s\n", h.Backend, h.Server)
	}
	out := "    balance roundrobin\n    option redispatch\n    retries 3\n"
	for i, b := range h.Backends {
		out += fmt.Sprintf("    server peer%d %s %s check inter 200ms fall 1 rise 1\n", i, b, h.Server)
	}
	return out
}
