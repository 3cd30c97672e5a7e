// Package relay delivers the outbox: a pool of workers takes due records
// from the store, hands them to an SMTP relay and deletes each one only
// after the relay accepted it. Temporary failures are retried with
// exponential backoff and jitter until the record is too old; permanent
// failures drop the record with a log line and never bounce (a reply to an
// auto-reply is what RFC 3834 forbids).
package relay

import (
	"context"
	"errors"
	"log/slog"
	"math/rand/v2"
	"sync"
	"time"

	"github.com/vacationd/vacationd/metrics"
	"github.com/vacationd/vacationd/store"
)

// Sender submits one message. Implementations may keep a connection open
// between calls; each worker has its own Sender.
type Sender interface {
	Send(ctx context.Context, from string, to []string, msg []byte) error
	Close() error
}

// Config configures a Relay.
type Config struct {
	DB store.Outbox
	// NewSender makes the Sender of one worker.
	NewSender func() Sender
	// IsTemporary classifies a Send error; a temporary one is retried.
	IsTemporary func(error) bool
	Workers     int           // default 4
	RetryMin    time.Duration // default 30s
	RetryMax    time.Duration // default 1h
	MaxAge      time.Duration // default 5 days
	Logger      *slog.Logger
	Metrics     *Metrics
	Now         func() time.Time
}

// Metrics are the relay counters.
type Metrics struct {
	Sent    *metrics.Counter // by kind
	Retried *metrics.Counter // by kind
	Dropped *metrics.Counter // by cause: permanent, expired
	Errors  *metrics.Counter // relay errors by class: temporary, permanent
}

// NewMetrics registers the relay metrics in r (private when nil).
func NewMetrics(r *metrics.Registry) *Metrics {
	if r == nil {
		r = &metrics.Registry{}
	}
	return &Metrics{
		Sent:    r.NewCounter("vacationd_outbox_sent_total", "Outbox messages accepted by the relay, by kind.", "kind"),
		Retried: r.NewCounter("vacationd_outbox_retried_total", "Outbox deliveries postponed after a temporary failure, by kind.", "kind"),
		Dropped: r.NewCounter("vacationd_outbox_dropped_total", "Outbox messages dropped, by cause.", "cause"),
		Errors:  r.NewCounter("vacationd_relay_errors_total", "Relay errors by class.", "class"),
	}
}

// Relay is the outbox dispatcher and its workers.
type Relay struct {
	cfg Config
	log *slog.Logger
}

// New returns a Relay; Run starts it.
func New(cfg Config) (*Relay, error) {
	if cfg.DB == nil || cfg.NewSender == nil {
		return nil, errors.New("relay: DB and NewSender are required")
	}
	if cfg.Workers <= 0 {
		cfg.Workers = 4
	}
	if cfg.RetryMin <= 0 {
		cfg.RetryMin = 30 * time.Second
	}
	if cfg.RetryMax <= 0 {
		cfg.RetryMax = time.Hour
	}
	if cfg.RetryMax < cfg.RetryMin {
		cfg.RetryMax = cfg.RetryMin
	}
	if cfg.MaxAge <= 0 {
		cfg.MaxAge = 5 * 24 * time.Hour
	}
	if cfg.IsTemporary == nil {
		cfg.IsTemporary = func(error) bool { return true }
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	if cfg.Metrics == nil {
		cfg.Metrics = NewMetrics(nil)
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	return &Relay{cfg: cfg, log: cfg.Logger}, nil
}

// Run delivers until ctx ends: it first picks up everything already in
// the outbox, then wakes on new commits and on the next due time. Records
// being sent when ctx ends are released, not lost.
func (r *Relay) Run(ctx context.Context) error {
	jobs := make(chan store.OutboxRecord)
	// retried wakes the dispatcher when a worker reschedules a record:
	// while it was leased NextDue could not see it, so the dispatcher may
	// be sleeping past its new due time.
	retried := make(chan struct{}, 1)
	// settling counts the deletions of sent records still being stored;
	// Run returns after them.
	var wg, settling sync.WaitGroup
	for range r.cfg.Workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			r.worker(ctx, jobs, retried, &settling)
		}()
	}
	defer func() {
		close(jobs)
		wg.Wait()
		settling.Wait()
	}()
	for {
		recs, err := r.cfg.DB.Claim(r.cfg.Now(), r.cfg.Workers*8)
		if err != nil {
			r.log.Error("outbox claim", "error", err)
		}
		for i, rec := range recs {
			select {
			case jobs <- rec:
			case <-ctx.Done():
				for _, left := range recs[i:] {
					r.cfg.DB.Release(left.ID)
				}
				return nil
			}
		}
		if len(recs) > 0 && err == nil {
			continue // drain everything due before sleeping
		}
		wait := time.Minute
		if next, ok, err := r.cfg.DB.NextDue(); err == nil && ok {
			if d := next.Sub(r.cfg.Now()); d < wait {
				wait = max(d, 10*time.Millisecond)
			}
		}
		t := time.NewTimer(wait)
		select {
		case <-ctx.Done():
			t.Stop()
			return nil
		case <-r.cfg.DB.Queued():
		case <-retried:
		case <-t.C:
		}
		t.Stop()
	}
}

func (r *Relay) worker(ctx context.Context, jobs <-chan store.OutboxRecord, retried chan<- struct{}, settling *sync.WaitGroup) {
	s := r.cfg.NewSender()
	defer s.Close()
	for rec := range jobs {
		if ctx.Err() != nil {
			r.cfg.DB.Release(rec.ID)
			continue
		}
		if r.deliver(ctx, s, rec, settling) {
			select {
			case retried <- struct{}{}:
			default:
			}
		}
	}
}

// deliver sends one record and settles it; it reports whether the record
// was rescheduled for a retry. The deletion of a sent record is stored in
// the background (counted by settling): the record stays leased until it
// is, and the worker goes on with the next one instead of waiting for a
// transaction that the store delays to share (see store.DB.Done).
func (r *Relay) deliver(ctx context.Context, s Sender, rec store.OutboxRecord, settling *sync.WaitGroup) bool {
	now := r.cfg.Now()
	err := s.Send(ctx, rec.From, rec.To, rec.Message)
	switch {
	case err == nil:
		r.cfg.Metrics.Sent.Inc(rec.Kind)
		r.log.Info("relayed", "id", rec.ID, "kind", rec.Kind, "from", rec.From, "to", rec.To, "attempts", rec.Attempts+1)
		settling.Add(1)
		go func() {
			defer settling.Done()
			if derr := r.cfg.DB.Done(rec.ID); derr != nil {
				r.log.Error("outbox done", "id", rec.ID, "error", derr)
			}
		}()
	case ctx.Err() != nil:
		r.cfg.DB.Release(rec.ID)
	case !r.cfg.IsTemporary(err):
		r.cfg.Metrics.Errors.Inc("permanent")
		r.cfg.Metrics.Dropped.Inc("permanent")
		r.log.Warn("relay refused message permanently; dropped (no bounce for auto-replies)", "id", rec.ID, "kind", rec.Kind, "to", rec.To, "error", err)
		if derr := r.cfg.DB.Drop(rec.ID, err.Error()); derr != nil {
			r.log.Error("outbox drop", "id", rec.ID, "error", derr)
		}
	default:
		r.cfg.Metrics.Errors.Inc("temporary")
		if now.Sub(rec.Queued) >= r.cfg.MaxAge {
			r.cfg.Metrics.Dropped.Inc("expired")
			r.log.Warn("outbox record too old; dropped", "id", rec.ID, "kind", rec.Kind, "to", rec.To, "queued", rec.Queued, "error", err)
			if derr := r.cfg.DB.Drop(rec.ID, "expired: "+err.Error()); derr != nil {
				r.log.Error("outbox drop", "id", rec.ID, "error", derr)
			}
			return false
		}
		next := now.Add(r.backoff(rec.Attempts))
		r.cfg.Metrics.Retried.Inc(rec.Kind)
		r.log.Warn("relay failed temporarily; will retry", "id", rec.ID, "to", rec.To, "attempt", rec.Attempts+1, "next", next, "error", err)
		if derr := r.cfg.DB.Retry(rec.ID, next, err.Error()); derr != nil {
			r.log.Error("outbox retry", "id", rec.ID, "error", derr)
		}
		return true
	}
	return false
}

// backoff is RetryMin·2^attempts capped at RetryMax, with ±25% jitter.
func (r *Relay) backoff(attempts int) time.Duration {
	d := r.cfg.RetryMin
	for i := 0; i < attempts && d < r.cfg.RetryMax; i++ {
		d *= 2
	}
	d = min(d, r.cfg.RetryMax)
	jitter := time.Duration(rand.Int64N(int64(d)/2+1)) - d/4
	return max(d+jitter, d/2)
}
