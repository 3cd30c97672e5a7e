package main

import (
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/vacationd/vacationd/store"
)

// httpHandler serves the operator endpoints of vacationd serve:
// /healthz, /metrics, /dedup and /outbox.
func httpHandler(reg prometheus.Gatherer, db store.State, maxAge time.Duration) http.Handler {
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
		fmt.Fprintln(w, "ok")
	})
	// /dedup answers "why did I get no reply?" on a running service:
	// GET lists a user's records (optionally for one sender), DELETE
	// forgets them so the next message gets a reply again.
	mux.HandleFunc("/dedup", func(w http.ResponseWriter, r *http.Request) {
		user, sender := r.URL.Query().Get("user"), r.URL.Query().Get("sender")
		if user == "" {
			http.Error(w, "user parameter required", http.StatusBadRequest)
			return
		}
		switch r.Method {
		case http.MethodGet:
			recs, err := db.ListDedup(user, sender)
			if err != nil {
				http.Error(w, err.Error(), http.StatusInternalServerError)
				return
			}
			w.Header().Set("Content-Type", "text/plain; charset=utf-8")
			for _, rec := range recs {
				fmt.Fprintf(w, "%s\t%s\t%s\t%s\n", rec.Key.User, rec.Key.Sender, rec.Created.UTC().Format(time.RFC3339), rec.Expires.UTC().Format(time.RFC3339))
			}
		case http.MethodDelete:
			n, err := db.ForgetDedup(user, sender)
			if err != nil {
				http.Error(w, err.Error(), http.StatusInternalServerError)
				return
			}
			fmt.Fprintf(w, "forgot %d records\n", n)
		default:
			http.Error(w, "GET or DELETE", http.StatusMethodNotAllowed)
		}
	})
	// /outbox lists queued replies on a running service; POST
	// /outbox/retry?id=N makes one due now, POST /outbox/drop?id=N deletes it.
	mux.HandleFunc("/outbox", func(w http.ResponseWriter, r *http.Request) {
		recs, err := db.ListOutbox()
		if err != nil {
			http.Error(w, err.Error(), http.StatusInternalServerError)
			return
		}
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		for _, rec := range recs {
			from := rec.From
			if from == "" {
				from = "<>"
			}
			fmt.Fprintf(w, "%d\t%s\t%s\t%s\t%d\t%s\t%s\t%s\n", rec.ID, rec.Kind, from, strings.Join(rec.To, ","),
				rec.Attempts, rec.Queued.UTC().Format(time.RFC3339), rec.NextAttempt.UTC().Format(time.RFC3339), rec.LastError)
		}
	})
	outboxOp := func(op func(id uint64) error) http.HandlerFunc {
		return func(w http.ResponseWriter, r *http.Request) {
			if r.Method != http.MethodPost {
				http.Error(w, "POST only", http.StatusMethodNotAllowed)
				return
			}
			id, err := strconv.ParseUint(r.URL.Query().Get("id"), 10, 64)
			if err != nil {
				http.Error(w, "id parameter: want a record number", http.StatusBadRequest)
				return
			}
			if err := op(id); err != nil {
				code := http.StatusInternalServerError
				switch {
				case errors.Is(err, store.ErrNotFound):
					code = http.StatusNotFound
				case errors.Is(err, store.ErrLeased):
					code = http.StatusConflict
				}
				http.Error(w, err.Error(), code)
				return
			}
			fmt.Fprintln(w, "ok")
		}
	}
	// A record a relay worker is sending is left to it (409): ending its
	// lease would let a second worker send it too.
	mux.HandleFunc("/outbox/retry", outboxOp(func(id uint64) error { return db.RescheduleIdle(id, time.Now()) }))
	mux.HandleFunc("/outbox/drop", outboxOp(func(id uint64) error { return db.Drop(id, "dropped by operator") }))
	mux.Handle("/metrics", promhttp.HandlerFor(reg, promhttp.HandlerOpts{}))
	return mux
}
