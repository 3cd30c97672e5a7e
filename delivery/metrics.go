package delivery

import "github.com/vacationd/vacationd/metrics"

// Metrics are the delivery counters published on /metrics.
type Metrics struct {
	Recipients *metrics.Counter   // by outcome: delivered, tempfail, rejected
	Decisions  *metrics.Counter   // vacation decisions by reason ("sent" when replying)
	Queued     *metrics.Counter   // outbox records by kind
	Latency    *metrics.Histogram // per-message processing seconds
}

// NewMetrics registers the delivery metrics in r (a private registry when
// r is nil).
func NewMetrics(r *metrics.Registry) *Metrics {
	if r == nil {
		r = &metrics.Registry{}
	}
	return &Metrics{
		Recipients: r.NewCounter("vacationd_lmtp_recipients_total", "LMTP recipients by outcome.", "outcome"),
		Decisions:  r.NewCounter("vacationd_vacation_decisions_total", "Vacation decisions by reason.", "reason"),
		Queued:     r.NewCounter("vacationd_outbox_queued_total", "Messages queued in the outbox by kind.", "kind"),
		Latency: r.NewHistogram("vacationd_message_seconds", "Per-message processing latency.",
			[]float64{0.00005, 0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5}),
	}
}
