// Package mailutest serves the responses captured from Mailu's real admin
// (../shared/mailu/admin) from a fake admin, with the real status codes
// and content types, for tests of the Mailu script source at every level.
package mailutest

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
)

// Users are the five users whose scripts were captured.
var Users = []string{"alice", "bob", "carol", "dave", "admin"}

// Domain is the captured users' domain.
const Domain = "example.test"

// notFoundBody is the HTML body Flask sends with a 404.
const notFoundBody = "<!doctype html>\n<html lang=en>\n<title>404 Not Found</title>\n<h1>Not Found</h1>\n<p>The requested URL was not found on the server. If you entered the URL manually please check your spelling and try again.</p>\n"

// Admin is a fake Mailu admin.
type Admin struct {
	Server *httptest.Server
	// Dir holds the captured responses.
	Dir string

	down     atomic.Bool
	requests atomic.Int64

	mu   sync.Mutex
	uris []string
	body map[string]string // user local part -> JSON body overriding the capture
}

// Start serves the captures in dir (usually ../shared/mailu/admin relative
// to the test's package) until the test ends; it skips the test when dir
// is missing.
func Start(t testing.TB, dir string) *Admin {
	t.Helper()
	if _, err := os.Stat(filepath.Join(dir, "sieve-data-alice.json")); err != nil {
		t.Skipf("Mailu captures not found in %s: %v", dir, err)
	}
	a := &Admin{Dir: dir, body: map[string]string{}}
	a.Server = httptest.NewServer(http.HandlerFunc(a.serve))
	t.Cleanup(a.Server.Close)
	return a
}

// URL is the admin's base URL (http://127.0.0.1:PORT).
func (a *Admin) URL() string { return a.Server.URL }

// SetDown makes every request answer 502, as Mailu's front does with the
// admin down (the real thing may also refuse or time out).
func (a *Admin) SetDown(down bool) { a.down.Store(down) }

// SetScript makes user's lookups answer with script instead of the capture.
func (a *Admin) SetScript(local, script string) {
	a.mu.Lock()
	defer a.mu.Unlock()
	b, _ := json.Marshal(script)
	a.body[local] = string(b)
}

// Requests is the number of requests served so far.
func (a *Admin) Requests() int64 { return a.requests.Load() }

// RequestURIs lists the request URIs served, as sent.
func (a *Admin) RequestURIs() []string {
	a.mu.Lock()
	defer a.mu.Unlock()
	return append([]string(nil), a.uris...)
}

func (a *Admin) serve(w http.ResponseWriter, r *http.Request) {
	a.requests.Add(1)
	a.mu.Lock()
	a.uris = append(a.uris, r.RequestURI)
	a.mu.Unlock()
	if a.down.Load() {
		http.Error(w, "502 Bad Gateway", http.StatusBadGateway)
		return
	}
	if r.Method != http.MethodGet {
		w.Header().Set("Allow", "GET, HEAD, OPTIONS")
		http.Error(w, "405 Method Not Allowed", http.StatusMethodNotAllowed)
		return
	}
	w.Header().Set("Server", "gunicorn")
	if user, ok := strings.CutPrefix(r.URL.Path, "/internal/dovecot/sieve/name/default/"); ok && strings.Contains(user, "@") {
		a.json(w, `"default"`)
		return
	}
	user, ok := strings.CutPrefix(r.URL.Path, "/internal/dovecot/sieve/data/default/")
	local, domain, _ := strings.Cut(strings.ToLower(user), "@")
	if ok && domain == Domain {
		a.mu.Lock()
		b, set := a.body[local]
		a.mu.Unlock()
		if set {
			a.json(w, b)
			return
		}
		if data, err := os.ReadFile(filepath.Join(a.Dir, "sieve-data-"+filepath.Base(local)+".json")); err == nil && !strings.ContainsAny(local, "/.") {
			a.json(w, string(data))
			return
		}
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.WriteHeader(http.StatusNotFound)
	w.Write([]byte(notFoundBody))
}

func (a *Admin) json(w http.ResponseWriter, body string) {
	w.Header().Set("Content-Type", "application/json")
	w.Write([]byte(body))
}

// Script reads the decoded script of a captured user from
// ../shared/mailu/scripts next to dir.
func Script(t testing.TB, dir, local string) string {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(dir, "..", "scripts", local+".sieve"))
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}
