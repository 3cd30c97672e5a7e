package metrics

import (
	"strings"
	"sync"
	"testing"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"
)

func TestCounterOnPrometheusRegistry(t *testing.T) {
	r := prometheus.NewRegistry()
	c := NewCounter(r, "x_total", "Things.", "kind")
	c.Inc("b")
	c.Add("a", 2)
	plain := NewCounter(r, "y_total", "Ys.", "")
	plain.Add("", 7)
	h := NewHistogram(r, "lat_seconds", "Latency.", []float64{0.1, 1})
	h.Observe(0.05)
	h.Observe(5)
	want := `# HELP x_total Things.
# TYPE x_total counter
x_total{kind="a"} 2
x_total{kind="b"} 1
# HELP y_total Ys.
# TYPE y_total counter
y_total 7
# HELP lat_seconds Latency.
# TYPE lat_seconds histogram
lat_seconds_bucket{le="0.1"} 1
lat_seconds_bucket{le="1"} 1
lat_seconds_bucket{le="+Inf"} 2
lat_seconds_sum 5.05
lat_seconds_count 2
`
	if err := testutil.GatherAndCompare(r, strings.NewReader(want)); err != nil {
		t.Error(err)
	}
	if c.Value("a") != 2 || c.Value("zzz") != 0 || plain.Value("") != 7 {
		t.Errorf("Value: a=%d zzz=%d plain=%d", c.Value("a"), c.Value("zzz"), plain.Value(""))
	}
}

func TestCounterConcurrentAndUnregistered(t *testing.T) {
	c := NewCounter(nil, "z_total", "Zs.", "k")
	var wg sync.WaitGroup
	for range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for range 1000 {
				c.Inc("x")
			}
		}()
	}
	wg.Wait()
	if c.Value("x") != 8000 {
		t.Errorf("got %d", c.Value("x"))
	}
}
