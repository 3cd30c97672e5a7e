// Package metrics is a minimal Prometheus text-format registry: labelled
// counters, gauges computed at scrape time, and histograms. It exists so
// the service can publish /metrics without a client library.
package metrics

import (
	"fmt"
	"io"
	"math"
	"sort"
	"strings"
	"sync"
)

// Registry holds metrics in registration order. It is safe for concurrent use.
type Registry struct {
	mu      sync.Mutex
	metrics []metric
}

type metric interface {
	write(w io.Writer)
}

// Counter is a monotonically increasing value per label value.
type Counter struct {
	name, help, label string
	mu                sync.Mutex
	vals              map[string]uint64
}

// NewCounter registers a counter with one label (label "" for none).
func (r *Registry) NewCounter(name, help, label string) *Counter {
	c := &Counter{name: name, help: help, label: label, vals: map[string]uint64{}}
	r.add(c)
	return c
}

// Inc adds one for the label value.
func (c *Counter) Inc(labelValue string) { c.Add(labelValue, 1) }

// Add adds n for the label value.
func (c *Counter) Add(labelValue string, n uint64) {
	c.mu.Lock()
	c.vals[labelValue] += n
	c.mu.Unlock()
}

// Value returns the current value for the label value.
func (c *Counter) Value(labelValue string) uint64 {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.vals[labelValue]
}

func (c *Counter) write(w io.Writer) {
	c.mu.Lock()
	defer c.mu.Unlock()
	fmt.Fprintf(w, "# HELP %s %s\n# TYPE %s counter\n", c.name, c.help, c.name)
	keys := make([]string, 0, len(c.vals))
	for k := range c.vals {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		fmt.Fprintf(w, "%s%s %d\n", c.name, labels(c.label, k), c.vals[k])
	}
}

// GaugeFunc is a value read at scrape time.
type GaugeFunc struct {
	name, help string
	f          func() float64
}

// NewGaugeFunc registers a gauge computed by f at every scrape.
func (r *Registry) NewGaugeFunc(name, help string, f func() float64) {
	r.add(&GaugeFunc{name: name, help: help, f: f})
}

func (g *GaugeFunc) write(w io.Writer) {
	fmt.Fprintf(w, "# HELP %s %s\n# TYPE %s gauge\n%s %s\n", g.name, g.help, g.name, g.name, formatFloat(g.f()))
}

// CounterFunc is a counter whose values per label are read at scrape time.
type CounterFunc struct {
	name, help, label string
	f                 func() map[string]uint64
}

// NewCounterFunc registers a counter read from f at every scrape.
func (r *Registry) NewCounterFunc(name, help, label string, f func() map[string]uint64) {
	r.add(&CounterFunc{name: name, help: help, label: label, f: f})
}

func (c *CounterFunc) write(w io.Writer) {
	vals := c.f()
	fmt.Fprintf(w, "# HELP %s %s\n# TYPE %s counter\n", c.name, c.help, c.name)
	keys := make([]string, 0, len(vals))
	for k := range vals {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		fmt.Fprintf(w, "%s%s %d\n", c.name, labels(c.label, k), vals[k])
	}
}

// Histogram counts observations in cumulative buckets.
type Histogram struct {
	name, help string
	bounds     []float64
	mu         sync.Mutex
	counts     []uint64
	sum        float64
	n          uint64
}

// NewHistogram registers a histogram with the given upper bounds.
func (r *Registry) NewHistogram(name, help string, bounds []float64) *Histogram {
	h := &Histogram{name: name, help: help, bounds: bounds, counts: make([]uint64, len(bounds))}
	r.add(h)
	return h
}

// Observe records one value.
func (h *Histogram) Observe(v float64) {
	h.mu.Lock()
	for i, b := range h.bounds {
		if v <= b {
			h.counts[i]++
		}
	}
	h.sum += v
	h.n++
	h.mu.Unlock()
}

func (h *Histogram) write(w io.Writer) {
	h.mu.Lock()
	defer h.mu.Unlock()
	fmt.Fprintf(w, "# HELP %s %s\n# TYPE %s histogram\n", h.name, h.help, h.name)
	for i, b := range h.bounds {
		fmt.Fprintf(w, "%s_bucket{le=\"%s\"} %d\n", h.name, formatFloat(b), h.counts[i])
	}
	fmt.Fprintf(w, "%s_bucket{le=\"+Inf\"} %d\n%s_sum %s\n%s_count %d\n", h.name, h.n, h.name, formatFloat(h.sum), h.name, h.n)
}

func (r *Registry) add(m metric) {
	r.mu.Lock()
	r.metrics = append(r.metrics, m)
	r.mu.Unlock()
}

// Write writes every metric in the Prometheus text format.
func (r *Registry) Write(w io.Writer) {
	r.mu.Lock()
	ms := append([]metric(nil), r.metrics...)
	r.mu.Unlock()
	for _, m := range ms {
		m.write(w)
	}
}

func labels(name, value string) string {
	if name == "" {
		return ""
	}
	return fmt.Sprintf("{%s=%q}", name, strings.ToValidUTF8(value, "?"))
}

func formatFloat(v float64) string {
	if math.IsInf(v, 1) {
		return "+Inf"
	}
	return fmt.Sprintf("%g", v)
}
