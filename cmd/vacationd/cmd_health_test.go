package main

import (
	"bytes"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

func TestHealth(t *testing.T) {
	status := http.StatusOK
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != "/healthz" {
			http.NotFound(w, r)
			return
		}
		if status != http.StatusOK {
			http.Error(w, "outbox: oldest record is 20m0s old", status)
			return
		}
		w.Write([]byte("ok\n"))
	}))
	defer srv.Close()
	addr := strings.TrimPrefix(srv.URL, "http://")
	var out, errb bytes.Buffer
	if rc := run([]string{"health", "--http", addr}, &out, &errb); rc != 0 || out.String() != "ok\n" {
		t.Fatalf("healthy: rc %d, out %q, err %q", rc, out.String(), errb.String())
	}
	status = http.StatusServiceUnavailable
	errb.Reset()
	if rc := run([]string{"health", "--http", srv.URL}, &out, &errb); rc != 1 || !strings.Contains(errb.String(), "oldest record") {
		t.Fatalf("unhealthy: rc %d, err %q", rc, errb.String())
	}
	srv.Close()
	if rc := run([]string{"health", "--http", addr}, &out, &errb); rc != 1 {
		t.Fatalf("nothing listening: rc %d", rc)
	}
	if rc := run([]string{"health", "--http", "nonsense"}, &out, &errb); rc != 2 {
		t.Fatalf("bad address: rc %d", rc)
	}
}

func TestHealthURL(t *testing.T) {
	for in, want := range map[string]string{
		":8025":        "http://127.0.0.1:8025/healthz",
		"0.0.0.0:8025": "http://127.0.0.1:8025/healthz",
		"[::]:8025":    "http://127.0.0.1:8025/healthz",
		"10.0.0.5:9":   "http://10.0.0.5:9/healthz",
		"[::1]:8025":   "http://[::1]:8025/healthz",
		"http://h:1/":  "http://h:1/healthz",
	} {
		got, err := healthURL(in)
		if err != nil || got != want {
			t.Errorf("healthURL(%q) = %q, %v; want %q", in, got, err, want)
		}
	}
}
