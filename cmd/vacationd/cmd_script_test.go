package main

import (
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/vacationd/vacationd/scripts"
	"github.com/vacationd/vacationd/store"
)

// TestScriptCommand walks `vacationd script` through every subcommand on
// a fresh database.
func TestScriptCommand(t *testing.T) {
	dir := t.TempDir()
	db, err := store.Open(filepath.Join(dir, "vacationd.db"), store.Options{NoSync: true})
	if err != nil {
		t.Fatal(err)
	}
	db.Close()
	good := filepath.Join(dir, "v.sieve")
	os.WriteFile(good, []byte("require \"vacation\";\nvacation :days 0 \"away\";\n"), 0o644)
	bad := filepath.Join(dir, "bad.sieve")
	os.WriteFile(bad, []byte("require \"vacation\";\nfoo;\n"), 0o644)
	const u = "alice@example.com"
	for _, tc := range []struct {
		args           []string
		code           int
		stdout, stderr string
	}{
		{[]string{"put", u, "v", good}, 0, "stored v for alice@example.com", "v: line 2: warning: specified :days value '0' is under the minimum."},
		{[]string{"put", u, "bad", bad}, 1, "", "bad: line 2: error: unknown command 'foo' (only reported once at first occurrence).\nbad: error: validation failed.\n"},
		{[]string{"put", u, "vs", good, "-x", "-vacation"}, 1, "", "vs: line 1: error: require command: unknown Sieve capability"},
		{[]string{"put", u, "a/b", good}, 1, "", "Invalid Sieve script name `a/b'."},
		{[]string{"activate", u, "v"}, 0, "v is alice@example.com's active script", ""},
		{[]string{"activate", u, "missing"}, 1, "", "Sieve script `missing' not found"},
		{[]string{"list", u}, 0, "v     ACTIVE  45", ""},
		{[]string{"get", u, "v"}, 0, "vacation :days 0 \"away\";", ""},
		{[]string{"delete", u, "v"}, 1, "", "Cannot delete the active Sieve script."},
		{[]string{"deactivate", u}, 0, "has no active script", ""},
		{[]string{"rename", u, "v", "w"}, 0, "renamed v to w", ""},
		{[]string{"delete", u, "w"}, 0, "deleted w", ""},
		{[]string{"list", u}, 0, "no scripts for alice@example.com", ""},
		{[]string{"get", u}, 2, "", "wrong number of arguments"},
		{[]string{"frob", u}, 2, "", "unknown subcommand"},
	} {
		var out, errb bytes.Buffer
		args := append([]string{"script", tc.args[0], "--data", dir}, tc.args[1:]...)
		code := run(args, &out, &errb)
		if code != tc.code || !strings.Contains(out.String(), tc.stdout) || !strings.Contains(errb.String(), tc.stderr) {
			t.Errorf("%v: exit %d, stdout %q, stderr %q; want %d, %q, %q", tc.args, code, out.String(), errb.String(), tc.code, tc.stdout, tc.stderr)
		}
	}
}

// TestScriptsAPI: the admin API's /scripts does what the CLI does, with
// HTTP statuses for the refusals.
func TestScriptsAPI(t *testing.T) {
	db := openTestDB(t)
	m := &scripts.Manager{Store: db, Compiler: newCompiler(nil, "", nil, nil), MaxScripts: 2}
	srv := httptest.NewServer(withScriptsAPI(http.NotFoundHandler(), func() *scripts.Manager { return m }))
	defer srv.Close()
	do := func(method, path, body string) (int, string) {
		req, _ := http.NewRequest(method, srv.URL+path, strings.NewReader(body))
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, string(b)
	}
	const q = "?user=alice@example.com"
	for _, tc := range []struct {
		method, path, body string
		code               int
		want               string
	}{
		{"PUT", "/scripts" + q + "&name=v", "require \"vacation\"; vacation \"away\";", 200, `"stored": "v"`},
		{"PUT", "/scripts" + q + "&name=bad", "foo;", 422, `bad: line 1: error: unknown command 'foo'`},
		{"PUT", "/scripts" + q + "&name=k", "keep;", 200, `"stored": "k"`},
		{"PUT", "/scripts" + q + "&name=third", "keep;", 409, "quota"},
		{"POST", "/scripts/activate" + q + "&name=v", "", 200, "active: v"},
		{"GET", "/scripts" + q, "", 200, "\"active\": true"},
		{"GET", "/scripts" + q + "&name=v", "", 200, `vacation "away";`},
		{"GET", "/scripts" + q + "&name=zz", "", 404, "not found"},
		{"DELETE", "/scripts" + q + "&name=v", "", 409, "active"},
		{"POST", "/scripts/rename" + q + "&name=k&to=v", "", 409, "already exists"},
		{"POST", "/scripts/deactivate" + q, "", 200, "no active script"},
		{"DELETE", "/scripts" + q + "&name=v", "", 200, `"deleted": "v"`},
		{"GET", "/scripts", "", 400, "user parameter required"},
		{"GET", "/scripts/activate" + q, "", 405, "POST only"},
	} {
		code, body := do(tc.method, tc.path, tc.body)
		if code != tc.code || !strings.Contains(body, tc.want) {
			t.Errorf("%s %s: %d %s; want %d with %q", tc.method, tc.path, code, body, tc.code, tc.want)
		}
	}
	var list []scriptJSON
	_, body := do("GET", "/scripts"+q, "")
	if err := json.Unmarshal([]byte(body), &list); err != nil || len(list) != 1 || list[0].Name != "k" || list[0].Active {
		t.Errorf("final list %s (%v)", body, err)
	}
}
