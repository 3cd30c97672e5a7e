// Package metrics is the small vocabulary vacationd's packages share on
// top of prometheus/client_golang: a counter with one label, incremented
// by label value. Registration, exposition and the standard go_* and
// process_* collectors are client_golang's (see cmd/vacationd).
package metrics

import (
	"github.com/prometheus/client_golang/prometheus"
	dto "github.com/prometheus/client_model/go"
)

// Counter is a counter vector with one label (or none).
type Counter struct {
	vec   *prometheus.CounterVec
	plain prometheus.Counter // when there is no label
}

// NewCounter registers a counter with one label ("" for none) in r; a nil
// r registers nothing, for packages used without a service (tests).
func NewCounter(r prometheus.Registerer, name, help, label string) *Counter {
	c := &Counter{}
	if label == "" {
		c.plain = prometheus.NewCounter(prometheus.CounterOpts{Name: name, Help: help})
		register(r, c.plain)
		return c
	}
	c.vec = prometheus.NewCounterVec(prometheus.CounterOpts{Name: name, Help: help}, []string{label})
	register(r, c.vec)
	return c
}

// NewHistogram registers a histogram with the given bucket upper bounds.
func NewHistogram(r prometheus.Registerer, name, help string, buckets []float64) prometheus.Histogram {
	h := prometheus.NewHistogram(prometheus.HistogramOpts{Name: name, Help: help, Buckets: buckets})
	register(r, h)
	return h
}

func register(r prometheus.Registerer, c prometheus.Collector) {
	if r != nil {
		r.MustRegister(c)
	}
}

// Inc adds one for the label value (ignored without a label).
func (c *Counter) Inc(labelValue string) { c.Add(labelValue, 1) }

// Add adds n for the label value.
func (c *Counter) Add(labelValue string, n uint64) {
	if c.plain != nil {
		c.plain.Add(float64(n))
		return
	}
	c.vec.WithLabelValues(labelValue).Add(float64(n))
}

// Value returns the current count for the label value.
func (c *Counter) Value(labelValue string) uint64 {
	m := c.plain
	if m == nil {
		m = c.vec.WithLabelValues(labelValue)
	}
	var d dto.Metric
	if err := m.Write(&d); err != nil {
		return 0
	}
	return uint64(d.GetCounter().GetValue())
}
