package delivery

import (
	"github.com/prometheus/client_golang/prometheus"

	"github.com/vacationd/vacationd/metrics"
)

// Metrics are the delivery counters published on /metrics.
type Metrics struct {
	Recipients *metrics.Counter     // by outcome: delivered, tempfail, rejected
	Decisions  *metrics.Counter     // vacation decisions by reason ("queued" when replying)
	Queued     *metrics.Counter     // outbox records by kind
	Latency    prometheus.Histogram // per-message processing seconds
	// CompileFailures counts script versions that failed to compile
	// (each is logged once and delivered with implicit keep).
	CompileFailures *metrics.Counter
	// Mailu counts the lookups at Mailu's admin (script source mailu:).
	Mailu *MailuMetrics
	// LimitFallbacks counts the backscatter limit decisions a replica made
	// on its own counts because the shared store failed (SharedLimit).
	LimitFallbacks *metrics.Counter
}

// NewMetrics registers the delivery metrics in r (nowhere when r is nil).
func NewMetrics(r prometheus.Registerer) *Metrics {
	return &Metrics{
		Recipients: metrics.NewCounter(r, "vacationd_lmtp_recipients_total", "LMTP recipients by outcome.", "outcome"),
		Decisions:  metrics.NewCounter(r, "vacationd_vacation_decisions_total", "Vacation decisions by reason.", "reason"),
		CompileFailures: metrics.NewCounter(r, "vacationd_script_compile_failures_total",
			"Script versions that failed to compile; their users' mail is kept without a reply.", ""),
		Queued: metrics.NewCounter(r, "vacationd_outbox_queued_total", "Messages queued in the outbox by kind.", "kind"),
		Latency: metrics.NewHistogram(r, "vacationd_message_seconds", "Per-message processing latency.",
			[]float64{0.00005, 0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5}),
		Mailu: NewMailuMetrics(r),
		LimitFallbacks: metrics.NewCounter(r, "vacationd_reply_limit_fallbacks_total",
			"Backscatter limit decisions made on this replica's own counts because the shared state store failed.", ""),
	}
}
