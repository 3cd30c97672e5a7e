package delivery

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/vacationd/vacationd/metrics"
)

// MailuConfig configures a [MailuSource]. Zero values take the defaults
// named.
type MailuConfig struct {
	// URL is the admin's base URL, e.g. http://admin:8080. Required.
	URL string
	// Client makes the requests; default a client with no proxy.
	Client *http.Client
	// Timeout bounds one lookup (connect, headers and body); default 3s.
	Timeout time.Duration
	// MaxAge is how long an answer (a script or "none") is reused before
	// the admin is asked again; default 30s. The admin adds a user's
	// vacation block only while today lies within its dates, so a change
	// made in the web UI takes effect within MaxAge.
	MaxAge time.Duration
	// BreakerFailures consecutive failed lookups open the circuit breaker;
	// default 3.
	BreakerFailures int
	// BreakerCooldown is how long an open breaker fails lookups at once,
	// without asking the admin; default 5s. Then one lookup probes the
	// admin and closes the breaker when it succeeds.
	BreakerCooldown time.Duration
	// MaxEntries bounds the answers kept; default 100000.
	MaxEntries int
	Logger     *slog.Logger
	// Metrics receives lookup outcomes and latency; nil for none.
	Metrics *MailuMetrics
	Now     func() time.Time
}

// MailuMetrics are the admin lookup metrics published on /metrics.
type MailuMetrics struct {
	Lookups *metrics.Counter     // by outcome: cached, script, none, error, breaker-open
	Latency prometheus.Histogram // seconds per request to the admin
}

// NewMailuMetrics registers the admin lookup metrics in r.
func NewMailuMetrics(r prometheus.Registerer) *MailuMetrics {
	return &MailuMetrics{
		Lookups: metrics.NewCounter(r, "vacationd_mailu_lookups_total", "Script lookups at Mailu's admin by outcome.", "outcome"),
		Latency: metrics.NewHistogram(r, "vacationd_mailu_lookup_seconds", "Latency of requests to Mailu's admin.",
			[]float64{0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5}),
	}
}

// ErrAdminUnavailable wraps every failed lookup: the admin did not answer,
// answered with an error, or the breaker is open. The pipeline answers the
// recipient with a temporary failure.
var ErrAdminUnavailable = errors.New("mailu admin unavailable")

// maxScriptBytes bounds the admin's answer.
const maxScriptBytes = 1 << 20

// MailuSource is the [Source] of a Mailu installation: each user's script
// is the one Mailu's admin renders for Dovecot's sieve_before,
// GET URL/internal/dovecot/sieve/data/default/<user>:
//
//   - 200 with a JSON string: the script.
//   - 404: the user has none (an unknown user): implicit keep.
//   - anything else, a timeout or a refused connection: an error wrapping
//     [ErrAdminUnavailable], so the recipient is retried and no reply is
//     lost.
//
// Answers are reused for MaxAge; concurrent lookups of one user share one
// request. A breaker fails lookups at once while the admin is down, so an
// outage costs each recipient microseconds, not a timeout.
//
// A script is named by a hash of its text (mailu:sha256:...), which is
// also its Version: compiled scripts are cached by content, so users whose
// scripts are the same (everyone without a vacation and with the same spam
// settings) share one compiled script, and a script is compiled again only
// when the admin renders a different one.
type MailuSource struct {
	cfg  MailuConfig
	base string

	mu       sync.Mutex
	entries  map[string]mailuEntry
	inflight map[string]*mailuCall
	failures int       // consecutive failed requests
	openTill time.Time // breaker open until then
	probing  bool      // one request is probing a half-open breaker
}

type mailuEntry struct {
	scripts []Script
	expires time.Time
}

type mailuCall struct {
	done    chan struct{}
	scripts []Script
	err     error
}

// NewMailuSource checks cfg and returns the source.
func NewMailuSource(cfg MailuConfig) (*MailuSource, error) {
	base := strings.TrimRight(cfg.URL, "/")
	if !strings.HasPrefix(base, "http://") && !strings.HasPrefix(base, "https://") {
		return nil, fmt.Errorf("mailu admin URL %q: want http://HOST:PORT", cfg.URL)
	}
	if cfg.Timeout <= 0 {
		cfg.Timeout = 3 * time.Second
	}
	if cfg.Client == nil {
		tr := http.DefaultTransport.(*http.Transport).Clone()
		tr.Proxy = nil // the admin is on the compose network
		tr.MaxIdleConnsPerHost = 32
		cfg.Client = &http.Client{Transport: tr}
	}
	if cfg.MaxAge <= 0 {
		cfg.MaxAge = 30 * time.Second
	}
	if cfg.BreakerFailures <= 0 {
		cfg.BreakerFailures = 3
	}
	if cfg.BreakerCooldown <= 0 {
		cfg.BreakerCooldown = 5 * time.Second
	}
	if cfg.MaxEntries <= 0 {
		cfg.MaxEntries = 100000
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	return &MailuSource{cfg: cfg, base: base, entries: map[string]mailuEntry{}, inflight: map[string]*mailuCall{}}, nil
}

// Scripts implements [Source]. user is the recipient in lower case
// without its detail.
func (m *MailuSource) Scripts(ctx context.Context, user string) ([]Script, error) {
	now := m.cfg.Now()
	m.mu.Lock()
	if e, ok := m.entries[user]; ok && now.Before(e.expires) {
		m.mu.Unlock()
		m.count("cached")
		return e.scripts, nil
	}
	if c, ok := m.inflight[user]; ok {
		m.mu.Unlock()
		select {
		case <-c.done:
			return c.scripts, c.err
		case <-ctx.Done():
			return nil, fmt.Errorf("%w: %v", ErrAdminUnavailable, ctx.Err())
		}
	}
	if !m.allowLocked(now) {
		m.mu.Unlock()
		m.count("breaker-open")
		return nil, fmt.Errorf("%w: circuit breaker open after %d failed lookups", ErrAdminUnavailable, m.cfg.BreakerFailures)
	}
	c := &mailuCall{done: make(chan struct{})}
	m.inflight[user] = c
	m.mu.Unlock()

	c.scripts, c.err = m.fetch(ctx, user)

	now = m.cfg.Now()
	m.mu.Lock()
	delete(m.inflight, user)
	m.probing = false
	if c.err != nil {
		m.failures++
		if m.failures >= m.cfg.BreakerFailures {
			if m.failures == m.cfg.BreakerFailures {
				m.cfg.Logger.Warn("mailu admin: circuit breaker open", "failures", m.failures, "cooldown", m.cfg.BreakerCooldown, "error", c.err)
			}
			m.openTill = now.Add(m.cfg.BreakerCooldown)
		}
	} else {
		if m.failures >= m.cfg.BreakerFailures {
			m.cfg.Logger.Info("mailu admin answers again: circuit breaker closed")
		}
		m.failures = 0
		m.storeLocked(user, mailuEntry{scripts: c.scripts, expires: now.Add(m.cfg.MaxAge)}, now)
	}
	m.mu.Unlock()
	close(c.done)
	return c.scripts, c.err
}

// allowLocked reports whether a request may go to the admin: always while
// the breaker is closed; while it is open, none until the cooldown ends,
// then one probe at a time.
func (m *MailuSource) allowLocked(now time.Time) bool {
	if m.failures < m.cfg.BreakerFailures {
		return true
	}
	if now.Before(m.openTill) || m.probing {
		return false
	}
	m.probing = true
	return true
}

// storeLocked keeps an answer, first dropping expired ones (and then
// arbitrary ones) when MaxEntries are kept.
func (m *MailuSource) storeLocked(user string, e mailuEntry, now time.Time) {
	if _, ok := m.entries[user]; !ok && len(m.entries) >= m.cfg.MaxEntries {
		for k, v := range m.entries {
			if !now.Before(v.expires) {
				delete(m.entries, k)
			}
		}
		for k := range m.entries {
			if len(m.entries) < m.cfg.MaxEntries {
				break
			}
			delete(m.entries, k)
		}
	}
	m.entries[user] = e
}

// fetch asks the admin for user's script.
func (m *MailuSource) fetch(ctx context.Context, user string) ([]Script, error) {
	u := m.ScriptURL(user)
	ctx, cancel := context.WithTimeout(ctx, m.cfg.Timeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
	if err != nil {
		return nil, fmt.Errorf("%w: GET %s: %v", ErrAdminUnavailable, u, err)
	}
	req.Header.Set("Accept", "application/json")
	start := time.Now()
	resp, err := m.cfg.Client.Do(req)
	if err != nil {
		m.count("error")
		return nil, fmt.Errorf("%w: GET %s: %v", ErrAdminUnavailable, u, err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, maxScriptBytes+1))
	if m.cfg.Metrics != nil {
		m.cfg.Metrics.Latency.Observe(time.Since(start).Seconds())
	}
	if err != nil {
		m.count("error")
		return nil, fmt.Errorf("%w: GET %s: reading the answer: %v", ErrAdminUnavailable, u, err)
	}
	switch resp.StatusCode {
	case http.StatusOK:
	case http.StatusNotFound:
		m.count("none")
		return nil, nil
	default:
		m.count("error")
		return nil, fmt.Errorf("%w: GET %s: %s", ErrAdminUnavailable, u, resp.Status)
	}
	if len(body) > maxScriptBytes {
		m.count("error")
		return nil, fmt.Errorf("%w: GET %s: answer larger than %d bytes", ErrAdminUnavailable, u, maxScriptBytes)
	}
	var text string
	if err := json.Unmarshal(body, &text); err != nil {
		m.count("error")
		return nil, fmt.Errorf("%w: GET %s: answer is not a JSON string: %v", ErrAdminUnavailable, u, err)
	}
	m.count("script")
	sum := sha256.Sum256([]byte(text))
	v := "sha256:" + hex.EncodeToString(sum[:])
	// Dovecot runs it as sieve_before: a global script.
	return []Script{{Name: "mailu:" + v, Version: v, Text: []byte(text), Global: true}}, nil
}

func (m *MailuSource) count(outcome string) {
	if m.cfg.Metrics != nil {
		m.cfg.Metrics.Lookups.Inc(outcome)
	}
}

// ScriptURL is where the admin serves user's script: the user escaped as
// Mailu's dict proxy does (Python's urllib.parse.quote: '@' as %40), and
// '/' escaped too, so no address reaches another endpoint.
func (m *MailuSource) ScriptURL(user string) string {
	return m.base + "/internal/dovecot/sieve/data/default/" + quoteUser(user)
}

// quoteUser percent-encodes every byte but the unreserved ones.
func quoteUser(s string) string {
	const hexDigits = "0123456789ABCDEF"
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '-' || c == '.' || c == '_' || c == '~' {
			b.WriteByte(c)
			continue
		}
		b.WriteByte('%')
		b.WriteByte(hexDigits[c>>4])
		b.WriteByte(hexDigits[c&15])
	}
	return b.String()
}
