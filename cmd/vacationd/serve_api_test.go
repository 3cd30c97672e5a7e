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

func TestHTTPExposureNeedsToken(t *testing.T) {
	for addr, ok := range map[string]bool{
		"": true, ":8025": true, "8025": true, "127.0.0.1:8025": true, "[::1]:8025": true, "localhost:8025": true,
		"0.0.0.0:8025": false, "[::]:8025": false, "192.0.2.1:8025": false,
	} {
		err := checkHTTPExposure(addr, "")
		if (err == nil) != ok {
			t.Errorf("checkHTTPExposure(%q) = %v", addr, err)
		}
		if err := checkHTTPExposure(addr, "/etc/vacationd/token"); err != nil {
			t.Errorf("with a token file, %q: %v", addr, err)
		}
	}
	var out, errOut strings.Builder
	code := runServe([]string{"--data", t.TempDir(), "--lmtp", "127.0.0.1:0", "--no-relay", "--script-source", "store", "--http", "0.0.0.0:0"}, &out, &errOut)
	if code == 0 || !strings.Contains(errOut.String(), "needs --http-token-file") {
		t.Errorf("serve on 0.0.0.0 without a token: %d %s", code, errOut.String())
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
