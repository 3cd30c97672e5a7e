package main

import (
	"bufio"
	"context"
	"io"
	"log/slog"
	"net"
	"strings"
	"testing"
	"time"

	"github.com/vacationd/vacationd/metrics"
	"github.com/vacationd/vacationd/transport"
)

// The LMTP sessions are counted by outcome: a connection refused at the
// connection limit shows on /metrics.
func TestServiceMetricsCountRefusedConnections(t *testing.T) {
	db := openTestDB(t)
	srv, err := transport.NewServer(transport.Config{
		Deliverer: transport.DelivererFunc(func(context.Context, *transport.Envelope, []byte) []transport.Status { return nil }),
		Hostname:  "mx.example.com", MaxConns: 1, Logger: slog.New(slog.NewTextHandler(io.Discard, nil)),
	})
	if err != nil {
		t.Fatal(err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	go srv.Serve(ln)
	defer srv.Close()
	greeting := func() string {
		t.Helper()
		c, err := net.DialTimeout("tcp", ln.Addr().String(), 5*time.Second)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { c.Close() })
		c.SetDeadline(time.Now().Add(5 * time.Second))
		line, err := bufio.NewReader(c).ReadString('\n')
		if err != nil {
			t.Fatal(err)
		}
		return line
	}
	if g := greeting(); !strings.HasPrefix(g, "220") {
		t.Fatalf("first connection: %q", g)
	}
	if g := greeting(); !strings.HasPrefix(g, "421") {
		t.Fatalf("second connection: %q, want 421", g)
	}
	reg := &metrics.Registry{}
	registerServiceMetrics(reg, srv, db)
	var b strings.Builder
	reg.Write(&b)
	if !strings.Contains(b.String(), "vacationd_lmtp_connections_refused_total 1\n") {
		t.Errorf("metrics lack the refused connection:\n%s", b.String())
	}
}
