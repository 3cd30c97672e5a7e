package delivery

import (
	"context"
	"errors"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/vacationd/vacationd/internal/mailutest"
	"github.com/vacationd/vacationd/sieve"
)

const mailuCaptures = "../../shared/mailu/admin"

// fakeClock is a settable clock for cache and breaker tests.
type fakeClock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *fakeClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *fakeClock) Add(d time.Duration) {
	c.mu.Lock()
	c.t = c.t.Add(d)
	c.mu.Unlock()
}

func newMailuTest(t *testing.T, url string, tune func(*MailuConfig)) (*MailuSource, *fakeClock, *MailuMetrics) {
	t.Helper()
	clk := &fakeClock{t: time.Date(2026, 11, 30, 12, 0, 0, 0, time.UTC)}
	mm := NewMailuMetrics(nil)
	cfg := MailuConfig{URL: url, Now: clk.Now, Metrics: mm, Timeout: 2 * time.Second}
	if tune != nil {
		tune(&cfg)
	}
	src, err := NewMailuSource(cfg)
	if err != nil {
		t.Fatal(err)
	}
	return src, clk, mm
}

func TestMailuSourceCapturedUsers(t *testing.T) {
	admin := mailutest.Start(t, mailuCaptures)
	src, _, _ := newMailuTest(t, admin.URL()+"/", nil)
	versions := map[string]string{}
	for _, u := range mailutest.Users {
		scripts, err := src.Scripts(context.Background(), u+"@example.test")
		if err != nil {
			t.Fatalf("%s: %v", u, err)
		}
		if len(scripts) != 1 {
			t.Fatalf("%s: %d scripts, want 1", u, len(scripts))
		}
		want := mailutest.Script(t, mailuCaptures, u)
		if got := string(scripts[0].Text); got != want {
			t.Errorf("%s: script differs from the decoded capture:\n%s\nwant\n%s", u, got, want)
		}
		if want := "mailu:" + scripts[0].Version; scripts[0].Name != want || !strings.HasPrefix(want, "mailu:sha256:") {
			t.Errorf("%s: name %q, version %q; want the content hash as both", u, scripts[0].Name, scripts[0].Version)
		}
		for other, v := range versions {
			if v == scripts[0].Version {
				t.Errorf("%s and %s have one version %q for different scripts", u, other, v)
			}
		}
		versions[u] = scripts[0].Version
		// Mailu's settings compile every captured script.
		opts := &sieve.Options{Extensions: "+spamtest +spamtestplus +editheader"}
		if _, err := sieve.Compile(u, scripts[0].Text, opts); err != nil {
			t.Errorf("%s: does not compile: %v", u, err)
		}
	}
	for _, uri := range admin.RequestURIs() {
		if !strings.Contains(uri, "%40example.test") {
			t.Errorf("request %q: want the user's @ escaped as %%40, as Mailu's dict proxy sends it", uri)
		}
	}
}

func TestMailuSourceUnknownUser(t *testing.T) {
	admin := mailutest.Start(t, mailuCaptures)
	src, _, mm := newMailuTest(t, admin.URL(), nil)
	scripts, err := src.Scripts(context.Background(), "nobody@example.test")
	if err != nil || scripts != nil {
		t.Fatalf("unknown user: %v, %v; want no script and no error", scripts, err)
	}
	if n := mm.Lookups.Value("none"); n != 1 {
		t.Errorf("lookups{none} = %d, want 1", n)
	}
}

func TestMailuQuoteUser(t *testing.T) {
	for in, want := range map[string]string{
		"alice@example.test":   "alice%40example.test",
		"a.b-c_d~e@x":          "a.b-c_d~e%40x",
		"../../auth/email@x":   "..%2F..%2Fauth%2Femail%40x",
		`"a b"@x`:              "%22a%20b%22%40x",
		"jürgen@example.test":  "j%C3%BCrgen%40example.test",
		"q?x=1#f@example.test": "q%3Fx%3D1%23f%40example.test",
	} {
		if got := quoteUser(in); got != want {
			t.Errorf("quoteUser(%q) = %q, want %q", in, got, want)
		}
	}
}

// TestMailuSourceReuse: an answer is reused for MaxAge and no longer, so a
// change made in the web UI takes effect within MaxAge.
func TestMailuSourceReuse(t *testing.T) {
	admin := mailutest.Start(t, mailuCaptures)
	src, clk, _ := newMailuTest(t, admin.URL(), func(c *MailuConfig) { c.MaxAge = 60 * time.Second })
	ctx := context.Background()
	first, err := src.Scripts(ctx, "bob@example.test")
	if err != nil {
		t.Fatal(err)
	}
	src.Scripts(ctx, "nobody@example.test")
	admin.SetScript("bob", "keep;")
	clk.Add(59 * time.Second)
	again, _ := src.Scripts(ctx, "bob@example.test")
	src.Scripts(ctx, "nobody@example.test")
	if n := admin.Requests(); n != 2 {
		t.Fatalf("%d requests within MaxAge, want 2 (one per user, the 404 too)", n)
	}
	if again[0].Version != first[0].Version {
		t.Fatal("reused answer changed")
	}
	clk.Add(time.Second)
	changed, err := src.Scripts(ctx, "bob@example.test")
	if err != nil {
		t.Fatal(err)
	}
	if string(changed[0].Text) != "keep;" || changed[0].Version == first[0].Version {
		t.Fatalf("after MaxAge: %q version %s; want the new script with a new version", changed[0].Text, changed[0].Version)
	}
}

// TestMailuSourceSharedRequest: concurrent lookups of one user share one
// request.
func TestMailuSourceSharedRequest(t *testing.T) {
	release := make(chan struct{})
	var hits atomic.Int64
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		hits.Add(1)
		<-release
		w.Header().Set("Content-Type", "application/json")
		w.Write([]byte(`"keep;"`))
	}))
	defer srv.Close()
	src, _, _ := newMailuTest(t, srv.URL, nil)
	var wg sync.WaitGroup
	errs := make(chan error, 8)
	for range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			s, err := src.Scripts(context.Background(), "bob@example.test")
			if err == nil && (len(s) != 1 || string(s[0].Text) != "keep;") {
				err = errors.New("wrong script")
			}
			errs <- err
		}()
	}
	for hits.Load() == 0 {
		time.Sleep(time.Millisecond)
	}
	time.Sleep(20 * time.Millisecond) // let the others queue behind it
	close(release)
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Error(err)
		}
	}
	if n := hits.Load(); n != 1 {
		t.Errorf("%d requests for 8 concurrent lookups, want 1", n)
	}
}

// TestMailuSourceFailures: every failure is an ErrAdminUnavailable (the
// pipeline's 451), never "no script".
func TestMailuSourceFailures(t *testing.T) {
	hang := make(chan struct{})
	defer close(hang)
	handlers := map[string]http.HandlerFunc{
		"500": func(w http.ResponseWriter, r *http.Request) { http.Error(w, "Internal Server Error", 500) },
		"503": func(w http.ResponseWriter, r *http.Request) { http.Error(w, "Service Unavailable", 503) },
		"403": func(w http.ResponseWriter, r *http.Request) { http.Error(w, "Forbidden", 403) },
		"not-json": func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Content-Type", "text/html")
			w.Write([]byte("<html>login</html>"))
		},
		"json-object": func(w http.ResponseWriter, r *http.Request) { w.Write([]byte(`{"script":"keep;"}`)) },
		"too-large": func(w http.ResponseWriter, r *http.Request) {
			w.Write([]byte(`"` + strings.Repeat("#", maxScriptBytes+10) + `"`))
		},
		"timeout": func(w http.ResponseWriter, r *http.Request) {
			select {
			case <-hang:
			case <-r.Context().Done():
			}
		},
	}
	for name, h := range handlers {
		t.Run(name, func(t *testing.T) {
			srv := httptest.NewServer(h)
			defer srv.Close()
			src, _, _ := newMailuTest(t, srv.URL, func(c *MailuConfig) { c.Timeout = 100 * time.Millisecond })
			s, err := src.Scripts(context.Background(), "bob@example.test")
			if !errors.Is(err, ErrAdminUnavailable) || s != nil {
				t.Fatalf("got %v, %v; want ErrAdminUnavailable", s, err)
			}
		})
	}
	t.Run("refused", func(t *testing.T) {
		srv := httptest.NewServer(http.NotFoundHandler())
		url := srv.URL
		srv.Close()
		src, _, _ := newMailuTest(t, url, nil)
		if _, err := src.Scripts(context.Background(), "bob@example.test"); !errors.Is(err, ErrAdminUnavailable) {
			t.Fatalf("got %v, want ErrAdminUnavailable", err)
		}
	})
}

// TestMailuSourceBreaker: after BreakerFailures failures the admin is not
// asked until the cooldown ends; then one probe closes the breaker.
func TestMailuSourceBreaker(t *testing.T) {
	admin := mailutest.Start(t, mailuCaptures)
	src, clk, mm := newMailuTest(t, admin.URL(), func(c *MailuConfig) {
		c.BreakerFailures = 3
		c.BreakerCooldown = 5 * time.Second
	})
	ctx := context.Background()
	admin.SetDown(true)
	for i := range 3 {
		if _, err := src.Scripts(ctx, "bob@example.test"); !errors.Is(err, ErrAdminUnavailable) {
			t.Fatalf("lookup %d: %v", i, err)
		}
	}
	if n := admin.Requests(); n != 3 {
		t.Fatalf("%d requests, want 3", n)
	}
	for range 100 {
		if _, err := src.Scripts(ctx, "carol@example.test"); !errors.Is(err, ErrAdminUnavailable) {
			t.Fatalf("breaker open: %v", err)
		}
	}
	if n := admin.Requests(); n != 3 {
		t.Fatalf("%d requests with the breaker open, want still 3", n)
	}
	if n := mm.Lookups.Value("breaker-open"); n != 100 {
		t.Errorf("lookups{breaker-open} = %d, want 100", n)
	}
	clk.Add(5 * time.Second)
	if _, err := src.Scripts(ctx, "bob@example.test"); err == nil {
		t.Fatal("probe succeeded against a down admin")
	}
	if _, err := src.Scripts(ctx, "bob@example.test"); err == nil || admin.Requests() != 4 {
		t.Fatalf("after a failed probe: %v, %d requests; want the breaker open again after 4", err, admin.Requests())
	}
	admin.SetDown(false)
	clk.Add(5 * time.Second)
	if _, err := src.Scripts(ctx, "bob@example.test"); err != nil {
		t.Fatalf("probe with the admin back: %v", err)
	}
	if _, err := src.Scripts(ctx, "carol@example.test"); err != nil {
		t.Fatalf("breaker closed: %v", err)
	}
}

func TestMailuSourceBadURL(t *testing.T) {
	for _, u := range []string{"", "admin:8080", "ftp://admin"} {
		if _, err := NewMailuSource(MailuConfig{URL: u}); err == nil {
			t.Errorf("URL %q accepted", u)
		}
	}
}

// BenchmarkMailuLookup measures the per-recipient cost of the admin
// lookup, with concurrent lookups as under LMTP load, and reports its
// p50/p99: "admin" asks the fake admin (HTTP over loopback, the captured
// 975-byte answer) for every recipient, "cached" reuses answers (MaxAge),
// "breaker-open" fails at once while the admin is down.
func BenchmarkMailuLookup(b *testing.B) {
	admin := mailutest.Start(b, mailuCaptures)
	for _, c := range []struct {
		name   string
		maxAge time.Duration
		down   bool
	}{{"admin", time.Nanosecond, false}, {"cached", time.Hour, false}, {"breaker-open", time.Nanosecond, true}} {
		b.Run(c.name, func(b *testing.B) {
			admin.SetDown(c.down)
			defer admin.SetDown(false)
			src, err := NewMailuSource(MailuConfig{URL: admin.URL(), MaxAge: c.maxAge, BreakerCooldown: time.Hour, Logger: slog.New(slog.DiscardHandler)})
			if err != nil {
				b.Fatal(err)
			}
			ctx := context.Background()
			users := []string{"alice@example.test", "bob@example.test", "carol@example.test", "dave@example.test", "admin@example.test"}
			for _, u := range users { // warm: connections, cache, breaker
				src.Scripts(ctx, u)
			}
			var mu sync.Mutex
			var all []time.Duration
			var n atomic.Int64
			b.ResetTimer()
			b.RunParallel(func(pb *testing.PB) {
				var lat []time.Duration
				for pb.Next() {
					u := users[n.Add(1)%int64(len(users))]
					t0 := time.Now()
					_, err := src.Scripts(ctx, u)
					lat = append(lat, time.Since(t0))
					if (err != nil) != c.down {
						b.Error(err)
						return
					}
				}
				mu.Lock()
				all = append(all, lat...)
				mu.Unlock()
			})
			b.StopTimer()
			slices.Sort(all)
			if len(all) > 0 {
				b.ReportMetric(float64(all[len(all)/2].Nanoseconds()), "p50-ns")
				b.ReportMetric(float64(all[len(all)*99/100].Nanoseconds()), "p99-ns")
			}
		})
	}
}

// TestMailuSourceSharesCompiledScripts: users whose scripts are the same
// share one compiled script.
func TestMailuSourceSharesCompiledScripts(t *testing.T) {
	admin := mailutest.Start(t, mailuCaptures)
	admin.SetScript("eve", mailutest.Script(t, mailuCaptures, "dave"))
	src, _, _ := newMailuTest(t, admin.URL(), nil)
	comp := NewCompiler(sieve.Options{Extensions: "+spamtest +spamtestplus +editheader"}, nil)
	var compiled []*sieve.Script
	for _, u := range []string{"dave@example.test", "eve@example.test", "bob@example.test"} {
		scripts, err := src.Scripts(context.Background(), u)
		if err != nil {
			t.Fatal(err)
		}
		s, err := comp.Load(scripts[0])
		if err != nil {
			t.Fatal(err)
		}
		compiled = append(compiled, s)
	}
	if compiled[0] != compiled[1] {
		t.Error("dave and eve have the same script but two compiled ones")
	}
	if compiled[0] == compiled[2] {
		t.Error("dave and bob share a compiled script though theirs differ")
	}
}
