package main

import (
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestAdminAPINeedsBearerToken(t *testing.T) {
	tok := &apiToken{}
	s := "s3cret"
	tok.v.Store(&s)
	h := requireToken(httpHandler(newRegistry(), openTestDB(t), 0), tok)
	cases := []struct {
		path, auth string
		code       int
	}{
		{"/healthz", "", 200},
		{"/metrics", "", 200},
		{"/outbox", "", 401},
		{"/outbox/dropped", "Bearer wrong", 401},
		{"/dedup?user=bob@example.com", "Basic czNjcmV0", 401},
		{"/outbox", "Bearer s3cret", 200},
		{"/outbox/dropped", "Bearer s3cret", 200},
	}
	for _, c := range cases {
		w := httptest.NewRecorder()
		r := httptest.NewRequest(http.MethodGet, c.path, nil)
		if c.auth != "" {
			r.Header.Set("Authorization", c.auth)
		}
		h.ServeHTTP(w, r)
		if w.Code != c.code {
			t.Errorf("GET %s with %q = %d, want %d: %s", c.path, c.auth, w.Code, c.code, w.Body.String())
		}
		if w.Code == 401 && w.Header().Get("WWW-Authenticate") == "" {
			t.Errorf("401 without WWW-Authenticate")
		}
	}
}

// An admin API on a listener other hosts reach is closed without a token
// file; /healthz and /metrics stay open.
func TestExposedAdminAPIClosedWithoutToken(t *testing.T) {
	for addr, want := range map[string]bool{
		"": false, ":8025": false, "8025": false, "127.0.0.1:8025": false, "[::1]:8025": false, "localhost:8025": false,
		"0.0.0.0:8025": true, "[::]:8025": true, "192.0.2.1:8025": true, "mail.example.com:8025": true,
	} {
		if got, err := exposed(addr); err != nil || got != want {
			t.Errorf("exposed(%q) = %v, %v; want %v", addr, got, err, want)
		}
	}
	tok := &apiToken{}
	empty := ""
	tok.v.Store(&empty)
	tok.closed.Store(true)
	h := requireToken(httpHandler(newRegistry(), openTestDB(t), 0), tok)
	for path, code := range map[string]int{"/healthz": 200, "/metrics": 200, "/outbox": 403, "/dedup?user=bob@example.com": 403} {
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, httptest.NewRequest("GET", path, nil))
		if rec.Code != code {
			t.Errorf("GET %s on an exposed listener without a token: %d, want %d (%s)", path, rec.Code, code, rec.Body.String())
		}
	}
}

// A rotated token file takes effect on reload; an emptied one is refused.
func TestTokenFileReload(t *testing.T) {
	dir := t.TempDir()
	file := writeFile(t, dir, "token", "first\n")
	args := []string{"--http-token-file", file, "--http", "0.0.0.0:8025"}
	load := func() (*config, error) { return loadConfig(args, nil, io.Discard) }
	cfg, err := load()
	if err != nil {
		t.Fatal(err)
	}
	rel := newReloader(cfg, load, slog.New(slog.NewTextHandler(io.Discard, nil)))
	tok, err := apiTokenReloadable(cfg, rel)
	if err != nil || *tok.v.Load() != "first" {
		t.Fatalf("token %v %v", tok, err)
	}
	os.WriteFile(file, []byte("second\n"), 0o600)
	if err := rel.reload(); err != nil || *tok.v.Load() != "second" {
		t.Errorf("after reload: %q %v", *tok.v.Load(), err)
	}
	os.WriteFile(file, []byte("\n"), 0o600)
	if err := rel.reload(); err == nil || *tok.v.Load() != "second" {
		t.Errorf("empty token file: %v, token %q (want refused, old kept)", err, *tok.v.Load())
	}
	os.Remove(filepath.Join(dir, "token"))
	if err := rel.reload(); err == nil || !strings.Contains(err.Error(), "--http-token-file") {
		t.Errorf("missing token file: %v", err)
	}
}
