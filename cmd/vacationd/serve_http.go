package main

import (
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/vacationd/vacationd/relay"
	"github.com/vacationd/vacationd/store"
)

// healthCheck is a part of /healthz besides the store: a line to show
// ("" for none), and whether it fails the check (503).
type healthCheck func() (line string, failed bool)

// httpHandler serves the operator endpoints of vacationd serve:
// /healthz, /metrics, and the admin API /dedup, /outbox,
// /outbox/dropped, /outbox/retry, /outbox/flush, /outbox/drop and
// /metadata (see requireToken).
// checks add to /healthz.
func httpHandler(reg prometheus.Gatherer, db store.State, maxAge time.Duration, checks ...healthCheck) http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("/healthz", func(w http.ResponseWriter, r *http.Request) {
		if err := db.Ping(r.Context()); err != nil {
			http.Error(w, "database: "+err.Error(), http.StatusServiceUnavailable)
			return
		}
		_, age, err := db.OutboxStats(time.Now())
		if err != nil {
			http.Error(w, "outbox: "+err.Error(), http.StatusServiceUnavailable)
			return
		}
		if maxAge > 0 && age > maxAge {
			http.Error(w, fmt.Sprintf("outbox: oldest record is %s old (limit %s): is the relay down?", age.Round(time.Second), maxAge), http.StatusServiceUnavailable)
			return
		}
		var lines []string
		for _, c := range checks {
			line, failed := c()
			if failed {
				http.Error(w, line, http.StatusServiceUnavailable)
				return
			}
			if line != "" {
				lines = append(lines, line)
			}
		}
		fmt.Fprintln(w, "ok")
		for _, l := range lines {
			fmt.Fprintln(w, l)
		}
	})
	// The admin API answers in JSON with the columns of the matching
	// CLI command (vacationd dedup list, outbox list, outbox dropped).
	//
	// /dedup answers "why did I get no reply?" on a running service:
	// GET lists a user's records (optionally for one sender), DELETE
	// forgets them so the next message gets a reply again.
	mux.HandleFunc("/dedup", func(w http.ResponseWriter, r *http.Request) {
		user, sender := r.URL.Query().Get("user"), r.URL.Query().Get("sender")
		if user == "" {
			jsonError(w, http.StatusBadRequest, "user parameter required")
			return
		}
		switch r.Method {
		case http.MethodGet:
			recs, err := db.ListDedup(user, sender)
			if err != nil {
				jsonError(w, storeErrorCode(err), err.Error())
				return
			}
			now := time.Now()
			out := make([]dedupJSON, 0, len(recs))
			for _, rec := range recs {
				state := "expired"
				if now.Before(rec.Expires) {
					state = "active"
				}
				out = append(out, dedupJSON{User: rec.Key.User, Sender: rec.Key.Sender, Handle: rec.Key.Handle,
					Replied: rec.Created.UTC(), Expires: rec.Expires.UTC(), State: state})
			}
			writeJSON(w, http.StatusOK, out)
		case http.MethodDelete:
			n, err := db.ForgetDedup(user, sender)
			if err != nil {
				jsonError(w, storeErrorCode(err), err.Error())
				return
			}
			writeJSON(w, http.StatusOK, map[string]int{"forgot": n})
		default:
			jsonError(w, http.StatusMethodNotAllowed, "GET or DELETE")
		}
	})
	// /outbox lists queued replies on a running service; POST
	// /outbox/retry?id=N makes one due now, POST /outbox/flush every one
	// waiting (relay.Flush), POST /outbox/drop?id=N deletes it;
	// /outbox/dropped lists the last dropped records and why.
	mux.HandleFunc("/outbox", getOnly(func(w http.ResponseWriter, r *http.Request) {
		recs, err := db.ListOutbox()
		if err != nil {
			jsonError(w, http.StatusInternalServerError, err.Error())
			return
		}
		out := make([]outboxJSON, 0, len(recs))
		for _, rec := range recs {
			out = append(out, outboxJSON{ID: rec.ID, Kind: rec.Kind, User: rec.User, From: envFrom(rec.From), To: rec.To,
				Size: len(rec.Message), Attempts: rec.Attempts, Queued: rec.Queued.UTC(), NextAttempt: rec.NextAttempt.UTC(),
				LastError: rec.LastError})
		}
		writeJSON(w, http.StatusOK, out)
	}))
	mux.HandleFunc("/outbox/dropped", getOnly(func(w http.ResponseWriter, r *http.Request) {
		recs, err := db.ListDropped()
		if err != nil {
			jsonError(w, http.StatusInternalServerError, err.Error())
			return
		}
		out := make([]droppedJSON, 0, len(recs))
		for _, d := range recs {
			rec := d.Record
			out = append(out, droppedJSON{ID: rec.ID, Kind: rec.Kind, User: rec.User, From: envFrom(rec.From), To: rec.To,
				Attempts: rec.Attempts, Queued: rec.Queued.UTC(), Dropped: d.Dropped.UTC(), Reason: d.Reason})
		}
		writeJSON(w, http.StatusOK, out)
	}))
	outboxOp := func(result string, op func(id uint64) error) http.HandlerFunc {
		return func(w http.ResponseWriter, r *http.Request) {
			if r.Method != http.MethodPost {
				jsonError(w, http.StatusMethodNotAllowed, "POST only")
				return
			}
			id, err := strconv.ParseUint(r.URL.Query().Get("id"), 10, 64)
			if err != nil {
				jsonError(w, http.StatusBadRequest, "id parameter: want a record number")
				return
			}
			if err := op(id); err != nil {
				jsonError(w, storeErrorCode(err), err.Error())
				return
			}
			writeJSON(w, http.StatusOK, map[string]any{"id": id, "result": result})
		}
	}
	// A record a relay worker is sending is left to it (409): ending its
	// lease would let a second worker send it too.
	mux.HandleFunc("/outbox/retry", outboxOp("due now", func(id uint64) error { return db.RescheduleIdle(id, time.Now()) }))
	mux.HandleFunc("/outbox/flush", func(w http.ResponseWriter, r *http.Request) {
		if r.Method != http.MethodPost {
			jsonError(w, http.StatusMethodNotAllowed, "POST only")
			return
		}
		n, err := relay.Flush(db, time.Now())
		if err != nil {
			jsonError(w, storeErrorCode(err), err.Error())
			return
		}
		writeJSON(w, http.StatusOK, map[string]int{"due_now": n})
	})
	mux.HandleFunc("/outbox/drop", outboxOp("dropped", func(id uint64) error { return db.Drop(id, "dropped by operator") }))
	mux.HandleFunc("/metadata", metadataHandler(db))
	mux.Handle("/metrics", promhttp.HandlerFor(reg, promhttp.HandlerOpts{}))
	return mux
}

// getOnly answers 405 to any method but GET (and HEAD) before h runs.
func getOnly(h http.HandlerFunc) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		if r.Method != http.MethodGet && r.Method != http.MethodHead {
			w.Header().Set("Allow", "GET, HEAD")
			jsonError(w, http.StatusMethodNotAllowed, "GET only")
			return
		}
		h(w, r)
	}
}

// storeErrorCode is the HTTP status of a state store error: the errors
// the request causes (store.ErrInvalid, ErrNotFound, ErrLeased) are the
// client's, anything else (the store failing) the server's.
func storeErrorCode(err error) int {
	switch {
	case errors.Is(err, store.ErrInvalid):
		return http.StatusBadRequest
	case errors.Is(err, store.ErrNotFound):
		return http.StatusNotFound
	case errors.Is(err, store.ErrLeased):
		return http.StatusConflict
	}
	return http.StatusInternalServerError
}
