package main

import (
	"errors"
	"io"
	"log/slog"
	"net/http"
	"sync/atomic"
	"time"

	"github.com/vacationd/vacationd/scripts"
	"github.com/vacationd/vacationd/store"
)

// scriptJSON is one entry of GET /scripts: the columns of `vacationd
// script list`.
type scriptJSON struct {
	Name    string    `json:"name"`
	Active  bool      `json:"active"`
	Size    int       `json:"size"`
	Updated time.Time `json:"updated"`
}

// withScriptsAPI adds the stored-scripts endpoints of the admin API to h,
// the actions of `vacationd script` on a running service (through the
// same scripts.Manager as ManageSieve, so a script is stored only if it
// compiles under serve's options):
//
//	GET    /scripts?user=U               list U's scripts
//	GET    /scripts?user=U&name=N        N's source (application/sieve)
//	PUT    /scripts?user=U&name=N        store the body as N; 422 with Pigeonhole's report if it does not compile
//	DELETE /scripts?user=U&name=N        delete N (409 when active)
//	POST   /scripts/activate?user=U&name=N
//	POST   /scripts/deactivate?user=U
//	POST   /scripts/rename?user=U&name=N&to=M
//
// cur returns the manager to use for a request (a reload replaces it).
func withScriptsAPI(h http.Handler, cur func() *scripts.Manager) http.Handler {
	mux := http.NewServeMux()
	mux.Handle("/", h)
	mux.HandleFunc("/scripts", func(w http.ResponseWriter, r *http.Request) {
		m := cur()
		user, name := r.URL.Query().Get("user"), r.URL.Query().Get("name")
		if user == "" {
			jsonError(w, http.StatusBadRequest, "user parameter required")
			return
		}
		switch {
		case r.Method == http.MethodGet && name == "":
			list, err := m.List(user)
			if err != nil {
				scriptError(w, err)
				return
			}
			out := make([]scriptJSON, 0, len(list))
			for _, s := range list {
				out = append(out, scriptJSON{Name: s.Name, Active: s.Active, Size: len(s.Source), Updated: s.Updated.UTC()})
			}
			writeJSON(w, http.StatusOK, out)
		case r.Method == http.MethodGet:
			s, err := m.Get(user, name)
			if err != nil {
				scriptError(w, err)
				return
			}
			w.Header().Set("Content-Type", "application/sieve; charset=utf-8")
			w.Write(s.Source)
		case r.Method == http.MethodPut:
			src, err := io.ReadAll(http.MaxBytesReader(w, r.Body, 16<<20))
			if err != nil {
				jsonError(w, http.StatusRequestEntityTooLarge, err.Error())
				return
			}
			warn, err := m.Put(user, name, src)
			if err != nil {
				scriptError(w, err)
				return
			}
			writeJSON(w, http.StatusOK, map[string]string{"stored": name, "warnings": warn})
		case r.Method == http.MethodDelete:
			if err := m.Delete(user, name); err != nil {
				scriptError(w, err)
				return
			}
			writeJSON(w, http.StatusOK, map[string]string{"deleted": name})
		default:
			jsonError(w, http.StatusMethodNotAllowed, "GET, PUT or DELETE")
		}
	})
	op := func(do func(m *scripts.Manager, user string, r *http.Request) (string, error)) http.HandlerFunc {
		return func(w http.ResponseWriter, r *http.Request) {
			if r.Method != http.MethodPost {
				jsonError(w, http.StatusMethodNotAllowed, "POST only")
				return
			}
			user := r.URL.Query().Get("user")
			if user == "" {
				jsonError(w, http.StatusBadRequest, "user parameter required")
				return
			}
			result, err := do(cur(), user, r)
			if err != nil {
				scriptError(w, err)
				return
			}
			writeJSON(w, http.StatusOK, map[string]string{"result": result})
		}
	}
	mux.HandleFunc("/scripts/activate", op(func(m *scripts.Manager, user string, r *http.Request) (string, error) {
		name := r.URL.Query().Get("name")
		if name == "" {
			return "", &scripts.Error{Msg: "name parameter required (use /scripts/deactivate to deactivate)"}
		}
		return "active: " + name, m.Activate(user, name)
	}))
	mux.HandleFunc("/scripts/deactivate", op(func(m *scripts.Manager, user string, r *http.Request) (string, error) {
		return "no active script", m.Activate(user, "")
	}))
	mux.HandleFunc("/scripts/rename", op(func(m *scripts.Manager, user string, r *http.Request) (string, error) {
		q := r.URL.Query()
		return "renamed to " + q.Get("to"), m.Rename(user, q.Get("name"), q.Get("to"))
	}))
	return mux
}

// scriptsAPIManager builds the admin API's script manager from serve's
// options and keeps it current across reloads (new extensions, -o).
func scriptsAPIManager(o *serveOptions, st store.Scripts, rel *reloader, log *slog.Logger) (func() *scripts.Manager, error) {
	m, err := scriptManager(o, st, log)
	if err != nil {
		return nil, err
	}
	var cur atomic.Pointer[scripts.Manager]
	cur.Store(m)
	rel.register("scripts-api", nil, func(c *config) (func(), error) {
		m, err := scriptManager(c.opts, st, log)
		if err != nil {
			return nil, err
		}
		return func() { cur.Store(m) }, nil
	})
	return cur.Load, nil
}

// scriptError answers a scripts.Manager error with its HTTP status.
func scriptError(w http.ResponseWriter, err error) {
	var e *scripts.Error
	if !errors.As(err, &e) {
		jsonError(w, http.StatusInternalServerError, err.Error())
		return
	}
	code := http.StatusBadRequest
	switch {
	case e.Compile:
		code = http.StatusUnprocessableEntity
	case e.Code == scripts.CodeNonexistent:
		code = http.StatusNotFound
	case e.Code == scripts.CodeActive, e.Code == scripts.CodeAlreadyExists, e.Code == scripts.CodeMaxScripts:
		code = http.StatusConflict
	case e.Code == scripts.CodeMaxSize:
		code = http.StatusRequestEntityTooLarge
	}
	jsonError(w, code, e.Msg)
}
