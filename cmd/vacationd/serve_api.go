package main

import (
	"crypto/subtle"
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"os"
	"strings"
	"sync/atomic"
	"time"
)

// The admin API's JSON records: the columns of the CLI's tables, under
// their lower-case names, times in RFC 3339 UTC.
type (
	dedupJSON struct {
		User    string    `json:"user"`
		Sender  string    `json:"sender"`
		Handle  string    `json:"handle"`
		Replied time.Time `json:"replied"`
		Expires time.Time `json:"expires"`
		State   string    `json:"state"` // active or expired (a reply will be sent)
	}
	outboxJSON struct {
		ID          uint64    `json:"id"`
		Kind        string    `json:"kind"`
		User        string    `json:"user"`
		From        string    `json:"from"`
		To          []string  `json:"to"`
		Size        int       `json:"size"`
		Attempts    int       `json:"attempts"`
		Queued      time.Time `json:"queued"`
		NextAttempt time.Time `json:"next_attempt"`
		LastError   string    `json:"last_error"`
	}
	droppedJSON struct {
		ID       uint64    `json:"id"`
		Kind     string    `json:"kind"`
		User     string    `json:"user"`
		From     string    `json:"from"`
		To       []string  `json:"to"`
		Attempts int       `json:"attempts"`
		Queued   time.Time `json:"queued"`
		Dropped  time.Time `json:"dropped"`
		Reason   string    `json:"reason"`
	}
)

func writeJSON(w http.ResponseWriter, code int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(code)
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	enc.SetEscapeHTML(false)
	enc.Encode(v)
}

func jsonError(w http.ResponseWriter, code int, msg string) {
	writeJSON(w, code, map[string]string{"error": msg})
}

// apiToken is the admin API's bearer token, read from --http-token-file
// at start and on every reload. With no token the API is open on a
// loopback listener and closed on any other (closed): /healthz and
// /metrics stay open to load balancers and Prometheus either way.
type apiToken struct {
	v      atomic.Pointer[string]
	closed atomic.Bool
}

// readTokenFile reads a token file: its first line, which must not be
// empty. "" path means no token.
func readTokenFile(path string) (string, error) { return readSecretFile("--http-token-file", path) }

// readSecretFile reads the first line of the file the flag names ("" for
// no file); an empty one is an error naming the flag.
func readSecretFile(flag, path string) (string, error) {
	if path == "" {
		return "", nil
	}
	b, err := os.ReadFile(path)
	if err != nil {
		return "", fmt.Errorf("%s: %w", flag, err)
	}
	tok, _, _ := strings.Cut(string(b), "\n")
	tok = strings.TrimSpace(tok)
	if tok == "" {
		return "", fmt.Errorf("%s %s: empty", flag, path)
	}
	return tok, nil
}

// requireToken guards everything but /healthz and /metrics (which load
// balancers and Prometheus scrape without credentials) with
// "Authorization: Bearer TOKEN".
func requireToken(h http.Handler, tok *apiToken) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		want := tok.v.Load()
		if r.URL.Path == "/healthz" || r.URL.Path == "/metrics" {
			h.ServeHTTP(w, r)
			return
		}
		if want == nil || *want == "" {
			if tok.closed.Load() {
				jsonError(w, http.StatusForbidden, "admin API closed: --http is not a loopback address and there is no --http-token-file")
				return
			}
			h.ServeHTTP(w, r)
			return
		}
		got, ok := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
		if !ok || subtle.ConstantTimeCompare([]byte(strings.TrimSpace(got)), []byte(*want)) != 1 {
			w.Header().Set("WWW-Authenticate", `Bearer realm="vacationd"`)
			jsonError(w, http.StatusUnauthorized, "bearer token required (--http-token-file)")
			return
		}
		h.ServeHTTP(w, r)
	})
}

// exposed reports whether the --http address is reachable from other
// hosts (not loopback).
func exposed(addr string) (bool, error) {
	if addr == "" {
		return false, nil
	}
	host, _, err := net.SplitHostPort(httpAddr(addr))
	if err != nil {
		return false, fmt.Errorf("--http %q: %w", addr, err)
	}
	if host == "localhost" {
		return false, nil
	}
	ip := net.ParseIP(host)
	return ip == nil || !ip.IsLoopback(), nil
}

// apiTokenReloadable reads --http-token-file and registers the reload
// hook that reads it again (a rotated token takes effect on SIGHUP).
func apiTokenReloadable(cfg *config, rel *reloader) (*apiToken, error) {
	tok := &apiToken{}
	t, err := readTokenFile(cfg.opts.httpTokenFile)
	if err != nil {
		return nil, err
	}
	open, err := exposed(cfg.opts.http)
	if err != nil {
		return nil, err
	}
	tok.v.Store(&t)
	tok.closed.Store(open)
	rel.register("http-token", []string{"http-token-file"}, func(c *config) (func(), error) {
		t, err := readTokenFile(c.opts.httpTokenFile)
		if err != nil {
			return nil, err
		}
		return func() { tok.v.Store(&t) }, nil
	})
	return tok, nil
}
