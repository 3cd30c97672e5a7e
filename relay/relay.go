// Package relay delivers the outbox: a pool of workers takes due records
// from the store, hands them to an SMTP relay and deletes each one only
// after the relay accepted it. Temporary failures are retried with
// exponential backoff and jitter until the record is too old; permanent
// failures drop the record with a log line and never bounce (a reply to an
// auto-reply is what RFC 3834 forbids).
//
// A permanent refusal only drops a record once the relay has shown it is
// refusing that recipient and not everyone: see [Relay] for the rule.
package relay

import (
	"context"
	"errors"
	"log/slog"
	"math/rand/v2"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
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
	// Cause names a permanent Send error for logs and the dropped
	// counter ("recipient", "smtputf8", ...); default "permanent".
	Cause func(error) string
	// Unsendable reports permanent errors that are no relay's answer but
	// a message this relay can never take (a reply to an SMTPUTF8 sender
	// through a relay without SMTPUTF8, an invalid envelope): dropped at
	// once, with an error log naming the cause. Default: none.
	Unsendable func(error) bool
	// RefusalStreak is the number of different records refused
	// permanently in a row, with no record accepted between them, from
	// which the relay is taken as failing: they are retried, not dropped.
	// Default 3.
	RefusalStreak int
	Workers       int           // default 4
	RetryMin      time.Duration // default 30s
	RetryMax      time.Duration // default 1h
	MaxAge        time.Duration // default 5 days
	// Lease is how long a worker holds a claimed record (default
	// store.DefaultLease); a send still running when its lease ends is
	// abandoned and retried, since another worker may claim the record.
	Lease   time.Duration
	Logger  *slog.Logger
	Metrics *Metrics
	Now     func() time.Time
}

// Metrics are the relay counters.
type Metrics struct {
	Sent    *metrics.Counter // by kind
	Retried *metrics.Counter // by kind
	Dropped *metrics.Counter // by cause: permanent, expired
	Errors  *metrics.Counter // relay errors by class: temporary, permanent, refusing
}

// NewMetrics registers the relay metrics in r (nowhere when nil).
func NewMetrics(r prometheus.Registerer) *Metrics {
	return &Metrics{
		Sent:    metrics.NewCounter(r, "vacationd_outbox_sent_total", "Outbox messages accepted by the relay, by kind.", "kind"),
		Retried: metrics.NewCounter(r, "vacationd_outbox_retried_total", "Outbox deliveries postponed after a temporary failure, by kind.", "kind"),
		Dropped: metrics.NewCounter(r, "vacationd_outbox_dropped_total", "Outbox messages dropped, by cause.", "cause"),
		Errors:  metrics.NewCounter(r, "vacationd_relay_errors_total", "Relay errors by class.", "class"),
	}
}

// Relay is the outbox dispatcher and its workers.
//
// A permanent refusal (a 5xx to the recipient) drops a record only when it
// is confirmed: the same record is refused again after the relay accepted
// some other record whose send started after the first refusal (a send
// already under way when the relay began refusing everyone proves
// nothing). The first refusal holds the record for a
// retry. When RefusalStreak different records are refused in a row with
// nothing accepted between them, the relay is refusing everyone (a lost
// authorisation, a policy change) and every refusal counts as a relay
// failure: retried with backoff, reported by [Relay.Health], never
// dropped. State is in memory: a restart forgets a first refusal, which
// costs one more attempt.
type Relay struct {
	cfg Config
	log *slog.Logger

	mu       sync.Mutex
	lastOK   time.Time            // start of the latest send the relay accepted
	streak   map[uint64]bool      // records refused since the last acceptance
	refused  map[uint64]time.Time // record -> end of its first refusal
	failures int                  // consecutive relay failures
	since    time.Time            // time of the first of them
	lastErr  string
}

// Health is the relay's state for /healthz.
type Health struct {
	// Failures counts consecutive relay failures (temporary errors and
	// refusals taken as relay failures) since the last accepted record.
	Failures int
	// Since is the time of the first of them; zero when Failures is 0.
	Since time.Time
	// LastError is the latest failure.
	LastError string
}

// Health returns the relay's failure count since the last accepted record.
func (r *Relay) Health() Health {
	r.mu.Lock()
	defer r.mu.Unlock()
	return Health{Failures: r.failures, Since: r.since, LastError: r.lastErr}
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
	if cfg.Lease <= 0 {
		cfg.Lease = store.DefaultLease
	}
	if cfg.IsTemporary == nil {
		cfg.IsTemporary = func(error) bool { return true }
	}
	if cfg.Cause == nil {
		cfg.Cause = func(error) string { return "permanent" }
	}
	if cfg.Unsendable == nil {
		cfg.Unsendable = func(error) bool { return false }
	}
	if cfg.RefusalStreak <= 0 {
		cfg.RefusalStreak = 3
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
	return &Relay{cfg: cfg, log: cfg.Logger, streak: map[uint64]bool{}, refused: map[uint64]time.Time{}}, nil
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
		recs, err := r.cfg.DB.Claim(ctx, r.cfg.Now(), r.cfg.Workers*8, r.cfg.Lease)
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
		if next, ok, err := r.cfg.DB.NextDue(ctx); err == nil && ok {
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
		if r.cfg.Now().Add(r.cfg.Lease / 4).After(rec.LeaseUntil) {
			// Waited in the queue for most of its lease: too little is
			// left to send it. Hand it back for a fresh claim.
			r.cfg.DB.Release(rec.ID)
			select {
			case retried <- struct{}{}:
			default:
			}
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

// done deletes a sent record, retrying while the store is unreachable (a
// shared database restarting): once the lease ends another replica would
// send the record again. It gives up when ctx ends or after doneRetryFor.
func (r *Relay) done(ctx context.Context, id uint64) {
	wait := 100 * time.Millisecond
	deadline := time.Now().Add(doneRetryFor)
	for {
		err := r.cfg.DB.Done(id)
		if err == nil || errors.Is(err, store.ErrNotFound) || errors.Is(err, store.ErrClosed) {
			return
		}
		if ctx.Err() != nil || time.Now().After(deadline) {
			r.log.Error("outbox done", "id", id, "error", err)
			return
		}
		r.log.Warn("outbox done failed; retrying", "id", id, "error", err)
		select {
		case <-ctx.Done():
		case <-time.After(wait):
		}
		wait = min(2*wait, 500*time.Millisecond)
	}
}

// doneRetryFor bounds how long done retries a failing deletion.
const doneRetryFor = 2 * time.Minute

// deliver sends one record and settles it; it reports whether the record
// was rescheduled for a retry. The deletion of a sent record is stored in
// the background (counted by settling): the record stays leased until it
// is, and the worker goes on with the next one instead of waiting for a
// transaction that the store delays to share (see store.DB.Done).
func (r *Relay) deliver(ctx context.Context, s Sender, rec store.OutboxRecord, settling *sync.WaitGroup) bool {
	now := r.cfg.Now()
	// The send must end within the lease: past it another worker may
	// claim the record and send it too. Claims come in batches of up to
	// Workers*8 queued for the workers, so the lease has partly run; what
	// remains bounds this send.
	sctx, cancel := context.WithDeadline(ctx, rec.LeaseUntil)
	defer cancel()
	err := s.Send(sctx, rec.From, rec.To, rec.Message)
	switch {
	case err == nil:
		r.accept(rec.ID, now)
		r.cfg.Metrics.Sent.Inc(rec.Kind)
		r.log.Info("sent: the relay accepted it", "outbox", "sent", "id", rec.ID, "kind", rec.Kind, "from", rec.From, "to", rec.To, "attempts", rec.Attempts+1)
		settling.Add(1)
		go func() {
			defer settling.Done()
			r.done(ctx, rec.ID)
		}()
		return false
	case ctx.Err() != nil:
		r.cfg.DB.Release(rec.ID)
		return false
	case !r.cfg.IsTemporary(err) && r.cfg.Unsendable(err):
		cause := r.cfg.Cause(err)
		r.cfg.Metrics.Errors.Inc("permanent")
		r.cfg.Metrics.Dropped.Inc(cause)
		r.log.Error("message cannot be sent through this relay; dropped", "outbox", "dropped",
			"id", rec.ID, "kind", rec.Kind, "to", rec.To, "cause", cause, "error", err)
		if derr := r.cfg.DB.Drop(rec.ID, cause+": "+err.Error()); derr != nil {
			r.log.Error("outbox drop", "id", rec.ID, "error", derr)
		}
		r.forget(rec.ID)
		return false
	case !r.cfg.IsTemporary(err):
		cause := r.cfg.Cause(err)
		switch r.refuse(rec.ID, r.cfg.Now(), err) {
		case confirmed:
			r.cfg.Metrics.Errors.Inc("permanent")
			r.cfg.Metrics.Dropped.Inc(cause)
			r.log.Warn("relay refused message permanently; dropped (no bounce for auto-replies)",
				"outbox", "dropped", "id", rec.ID, "kind", rec.Kind, "to", rec.To, "cause", cause, "error", err)
			if derr := r.cfg.DB.Drop(rec.ID, cause+": "+err.Error()); derr != nil {
				r.log.Error("outbox drop", "id", rec.ID, "error", derr)
			}
			return false
		case unconfirmed:
			r.cfg.Metrics.Errors.Inc("permanent")
			return r.retry(rec, now, err, "relay refused the recipient; retrying once the relay has accepted another message, to tell a refused recipient from a refusing relay", cause)
		default: // refusing
			r.cfg.Metrics.Errors.Inc("refusing")
			return r.retry(rec, now, err, "relay refused several different records in a row; taken as a relay failure, will retry", "relay")
		}
	default:
		r.failure(now, err)
		r.cfg.Metrics.Errors.Inc("temporary")
		return r.retry(rec, now, err, "relay failed temporarily; will retry", "relay")
	}
}

// retry reschedules rec after a failure, or drops it when it is too old.
func (r *Relay) retry(rec store.OutboxRecord, now time.Time, err error, msg, cause string) bool {
	if now.Sub(rec.Queued) >= r.cfg.MaxAge {
		r.cfg.Metrics.Dropped.Inc("expired")
		r.log.Warn("outbox record too old; dropped", "outbox", "dropped", "id", rec.ID, "kind", rec.Kind, "to", rec.To, "queued", rec.Queued, "error", err)
		if derr := r.cfg.DB.Drop(rec.ID, "expired: "+err.Error()); derr != nil {
			r.log.Error("outbox drop", "id", rec.ID, "error", derr)
		}
		r.forget(rec.ID)
		return false
	}
	next := now.Add(r.backoff(rec.Attempts))
	r.cfg.Metrics.Retried.Inc(rec.Kind)
	r.log.Warn(msg, "outbox", "retried", "id", rec.ID, "to", rec.To, "attempt", rec.Attempts+1, "next", next, "cause", cause, "error", err)
	if derr := r.cfg.DB.Retry(rec.ID, next, err.Error()); derr != nil {
		r.log.Error("outbox retry", "id", rec.ID, "error", derr)
	}
	return true
}

// verdict is what a permanent refusal means for its record.
type verdict int

const (
	unconfirmed verdict = iota // first refusal: hold the record
	confirmed                  // refused again after the relay accepted another: drop
	refusing                   // the relay refuses everyone: a relay failure
)

// refuse records a permanent refusal of record id and judges it.
func (r *Relay) refuse(id uint64, now time.Time, err error) verdict {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.streak[id] = true
	if len(r.streak) >= r.cfg.RefusalStreak {
		r.failLocked(now, err)
		return refusing
	}
	if first, ok := r.refused[id]; ok && r.lastOK.After(first) {
		delete(r.refused, id)
		delete(r.streak, id)
		return confirmed
	}
	if _, ok := r.refused[id]; !ok {
		if len(r.refused) >= 1024 {
			// Records dropped or sent by other means (an operator) leave
			// entries behind; none can be older than MaxAge.
			for k, t := range r.refused {
				if now.Sub(t) > r.cfg.MaxAge {
					delete(r.refused, k)
				}
			}
		}
		r.refused[id] = now
	}
	return unconfirmed
}

// accept records that the relay accepted record id, sent from start.
func (r *Relay) accept(id uint64, start time.Time) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if start.After(r.lastOK) {
		r.lastOK = start
	}
	clear(r.streak)
	delete(r.refused, id)
	r.failures, r.since, r.lastErr = 0, time.Time{}, ""
}

// failure records a relay failure.
func (r *Relay) failure(now time.Time, err error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.failLocked(now, err)
}

func (r *Relay) failLocked(now time.Time, err error) {
	if r.failures == 0 {
		r.since = now
	}
	r.failures++
	r.lastErr = err.Error()
}

// forget drops what is known about record id.
func (r *Relay) forget(id uint64) {
	r.mu.Lock()
	defer r.mu.Unlock()
	delete(r.refused, id)
	delete(r.streak, id)
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
