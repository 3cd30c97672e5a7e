package metrics

import (
	"strings"
	"sync"
	"testing"
)

func TestWriteTextFormat(t *testing.T) {
	r := &Registry{}
	c := r.NewCounter("x_total", "Things.", "kind")
	c.Inc("b")
	c.Add("a", 2)
	r.NewGaugeFunc("depth", "Depth.", func() float64 { return 3 })
	r.NewCounterFunc("y_total", "Ys.", "", func() map[string]uint64 { return map[string]uint64{"": 7} })
	h := r.NewHistogram("lat_seconds", "Latency.", []float64{0.1, 1})
	h.Observe(0.05)
	h.Observe(0.5)
	h.Observe(5)
	var b strings.Builder
	r.Write(&b)
	want := `# HELP x_total Things.
# TYPE x_total counter
x_total{kind="a"} 2
x_total{kind="b"} 1
# HELP depth Depth.
# TYPE depth gauge
depth 3
# HELP y_total Ys.
# TYPE y_total counter
y_total 7
# HELP lat_seconds Latency.
# TYPE lat_seconds histogram
lat_seconds_bucket{le="0.1"} 1
lat_seconds_bucket{le="1"} 2
lat_seconds_bucket{le="+Inf"} 3
lat_seconds_sum 5.55
lat_seconds_count 3
`
	if b.String() != want {
		t.Errorf("got:\n%s\nwant:\n%s", b.String(), want)
	}
}

func TestLabelEscaping(t *testing.T) {
	r := &Registry{}
	r.NewCounter("c_total", "C.", "why").Inc("a \"quoted\"\nline")
	var b strings.Builder
	r.Write(&b)
	if !strings.Contains(b.String(), `c_total{why="a \"quoted\"\nline"} 1`) {
		t.Errorf("label not escaped:\n%s", b.String())
	}
}

func TestConcurrentUse(t *testing.T) {
	r := &Registry{}
	c := r.NewCounter("n_total", "N.", "")
	h := r.NewHistogram("h", "H.", []float64{1})
	var wg sync.WaitGroup
	for range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for range 100 {
				c.Inc("")
				h.Observe(0.5)
				r.Write(&strings.Builder{})
			}
		}()
	}
	wg.Wait()
	if c.Value("") != 800 {
		t.Fatalf("counter = %d, want 800", c.Value(""))
	}
}
