//go:build e2e

package e2e

import (
	"bufio"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/vacationd/vacationd/internal/peertest"
)

// vacationd is one `vacationd serve` instance. Its LMTP and HTTP addresses
// and its data directory stay the same across restarts.
type vacationd struct {
	t          *testing.T
	lmtp, http string
	data       string
	args       []string
	env        []string
	log        *peertest.SyncBuffer // output of every run, in order
	p          *peertest.Proc
}

// startVacationd runs `vacationd serve` on fresh ports with a fresh data
// directory, plus the given flags, and waits until /healthz answers.
func startVacationd(t *testing.T, env []string, flags ...string) *vacationd {
	t.Helper()
	needServe(t)
	v := &vacationd{
		t: t, lmtp: peertest.FreeAddr(t), http: peertest.FreeAddr(t), data: t.TempDir(),
		env: env, log: &peertest.SyncBuffer{},
	}
	v.args = append([]string{"serve",
		"--lmtp", v.lmtp, "--http", v.http, "--data", v.data,
		"--hostname", "mx.example.com", "--extensions", "+vacation-seconds +editheader"}, flags...)
	if !slices.Contains(flags, "--relay") {
		v.args = append(v.args, "--no-relay") // replies only queue
	}
	if !slices.Contains(flags, "--scripts") && !slices.Contains(flags, "--script-source") && !slices.Contains(flags, "--config") && !slices.Contains(flags, "--mailu") {
		v.args = append(v.args, "--script-source", "store") // no scripts: every message is kept
	}
	v.start()
	return v
}

// start runs the service (again) and waits until it answers on HTTP.
func (v *vacationd) start() {
	v.t.Helper()
	v.p = peertest.StartProc(v.t, "vacationd", v.log, v.env, binary, v.args...)
	peertest.WaitFor(v.t, startTimeout, "vacationd /healthz", func() bool {
		if v.p.Exited() {
			v.t.Fatalf("vacationd exited at start: %v\n%s", v.p.Err(), v.log.String())
		}
		resp, err := http.Get("http://" + v.http + "/healthz")
		if err != nil {
			return false
		}
		resp.Body.Close()
		return true
	})
}

// stop ends the service with SIGTERM and expects a clean exit.
func (v *vacationd) stop() {
	v.t.Helper()
	if err := v.p.Stop(syscall.SIGTERM, stopTimeout); err != nil {
		v.t.Fatalf("vacationd after SIGTERM: %v", err)
	}
}

// kill ends the service with SIGKILL: no shutdown code runs.
func (v *vacationd) kill() {
	v.t.Helper()
	v.p.Kill()
}

// logs returns everything the service logged so far.
func (v *vacationd) logs() string { return v.log.String() }

// waitLog waits for a log line containing all of the given strings and
// returns it.
func (v *vacationd) waitLog(parts ...string) string {
	v.t.Helper()
	var found string
	peertest.WaitFor(v.t, arriveTimeout, "a log line with "+strings.Join(parts, " … "), func() bool {
		found = findLine(v.logs(), parts...)
		return found != ""
	})
	return found
}

// findLine returns the first line of s that contains every part.
func findLine(s string, parts ...string) string {
	for _, l := range strings.Split(s, "\n") {
		ok := true
		for _, p := range parts {
			if !strings.Contains(l, p) {
				ok = false
				break
			}
		}
		if ok {
			return l
		}
	}
	return ""
}

// metrics reads /metrics into a map from series (name with labels, as
// printed) to value.
func (v *vacationd) metrics() map[string]float64 {
	v.t.Helper()
	resp, err := http.Get("http://" + v.http + "/metrics")
	if err != nil {
		v.t.Fatalf("GET /metrics: %v", err)
	}
	defer resp.Body.Close()
	return parseMetrics(resp.Body)
}

func parseMetrics(r io.Reader) map[string]float64 {
	m := map[string]float64{}
	sc := bufio.NewScanner(r)
	for sc.Scan() {
		line := sc.Text()
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		i := strings.LastIndexByte(line, ' ')
		if i < 0 {
			continue
		}
		if f, err := strconv.ParseFloat(line[i+1:], 64); err == nil {
			m[line[:i]] = f
		}
	}
	return m
}

// metric returns one series' value; a series not (yet) printed is 0.
func (v *vacationd) metric(series string) float64 {
	v.t.Helper()
	return v.metrics()[series]
}

// waitMetric waits until the series has the value want.
func (v *vacationd) waitMetric(series string, want float64) {
	v.t.Helper()
	var got float64
	peertest.WaitFor(v.t, arriveTimeout, series+" = "+strconv.FormatFloat(want, 'g', -1, 64), func() bool {
		got = v.metric(series)
		return got == want
	})
}

// waitMetricAtLeast waits until the series reaches want.
func (v *vacationd) waitMetricAtLeast(series string, want float64) {
	v.t.Helper()
	peertest.WaitFor(v.t, arriveTimeout, series+" >= "+strconv.FormatFloat(want, 'g', -1, 64), func() bool {
		return v.metric(series) >= want
	})
}

// healthz returns the status code of /healthz.
func (v *vacationd) healthz() int {
	v.t.Helper()
	resp, err := http.Get("http://" + v.http + "/healthz")
	if err != nil {
		v.t.Fatalf("GET /healthz: %v", err)
	}
	resp.Body.Close()
	return resp.StatusCode
}

// dedup returns the service's /dedup listing for a user.
func (v *vacationd) dedup(user string) string {
	v.t.Helper()
	resp, err := http.Get("http://" + v.http + "/dedup?user=" + user)
	if err != nil {
		v.t.Fatalf("GET /dedup: %v", err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != http.StatusOK {
		v.t.Fatalf("GET /dedup?user=%s: %s: %s", user, resp.Status, b)
	}
	return string(b)
}

// scriptsDir writes scripts (path under the directory → source) into a
// fresh directory and returns it.
func scriptsDir(t *testing.T, scripts map[string]string) string {
	t.Helper()
	dir := t.TempDir()
	for name, src := range scripts {
		p := filepath.Join(dir, name)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(src), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

// Scripts used by several tests.
const (
	// onceScript replies once per sender (the dedup case).
	onceScript = "require \"vacation\";\nvacation :days 3 :subject \"Away\" \"I am away until Monday.\";\n"
	// everyScript replies to every message (RFC 6131 :seconds 0).
	everyScript = "require [\"vacation\", \"vacation-seconds\"];\nvacation :seconds 0 :subject \"Away\" \"I am away.\";\n"
)

// message is a small message from sender to bob@example.com.
func message(from, id string) []byte {
	return []byte("From: <" + from + ">\r\n" +
		"To: Bob <bob@example.com>\r\n" +
		"Subject: Meeting tomorrow\r\n" +
		"Date: " + time.Now().UTC().Format(time.RFC1123Z) + "\r\n" +
		"Message-ID: <" + id + "@example.org>\r\n" +
		"MIME-Version: 1.0\r\n" +
		"Content-Type: text/plain; charset=us-ascii\r\n" +
		"\r\n" +
		"Are we still on for tomorrow?\r\n")
}
