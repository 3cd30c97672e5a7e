package main

import (
	"bufio"
	"context"
	"io"
	"log/slog"
	"net"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"
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
	reg := newRegistry()
	registerServiceMetrics(reg, srv, db)
	text := metricsText(t, reg)
	if !strings.Contains(text, "vacationd_lmtp_connections_refused_total 1\n") {
		t.Errorf("metrics lack the refused connection:\n%s", text)
	}
}

// The registry carries the standard collectors and the build info, with
// the values vacationd version prints.
func TestRegistryHasStandardCollectorsAndBuildInfo(t *testing.T) {
	db := openTestDB(t)
	srv, err := transport.NewServer(transport.Config{
		Deliverer: transport.DelivererFunc(func(context.Context, *transport.Envelope, []byte) []transport.Status { return nil }),
		Hostname:  "mx.example.com", Logger: slog.New(slog.NewTextHandler(io.Discard, nil)),
	})
	if err != nil {
		t.Fatal(err)
	}
	reg := newRegistry()
	registerServiceMetrics(reg, srv, db)
	text := metricsText(t, reg)
	v := buildVersion()
	for _, want := range []string{
		"go_goroutines ", "process_resident_memory_bytes ", "vacationd_outbox_depth 0",
		"vacationd_store_commit_failures_total 0",
		`vacationd_build_info{commit="` + v.Commit + `",goversion="` + v.GoVersion + `",version="` + v.Version + `"} 1`,
	} {
		if !strings.Contains(text, want) {
			t.Errorf("metrics lack %q", want)
		}
	}
}

// metricsText is what /metrics serves for reg.
func metricsText(t *testing.T, reg prometheus.Gatherer) string {
	t.Helper()
	rec := httptest.NewRecorder()
	promhttp.HandlerFor(reg, promhttp.HandlerOpts{}).ServeHTTP(rec, httptest.NewRequest("GET", "/metrics", nil))
	return rec.Body.String()
}
