//go:build e2e && chaos

package e2e

import (
	"context"
	"fmt"
	"io"
	"math/rand/v2"
	"net"
	"os"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/emersion/go-smtp"

	"github.com/vacationd/vacationd/internal/peertest"
)

// The chaos test (make chaos; .ci/run runs a short form): vacationd serve
// is killed with SIGKILL in a loop while clients deliver messages from
// distinct senders, and the relay goes through outages answering 4xx and
// 5xx. Every message acknowledged with 250 must end in exactly one reply at
// the relay; a client retries what was not acknowledged, as Postfix does.
// Losses fail the test, and so do duplicates the kills do not explain: a
// reply the relay took shortly before a kill, whose deletion was not yet
// stored (the relay stores deletions in the background, sharing
// transactions), is sent again after the restart; any other duplicate
// fails.

// relayPhase is how the chaos relay answers during one round.
type relayPhase int32

const (
	phaseOK         relayPhase = iota
	phase451Rcpt               // 451 to every RCPT TO: a temporary outage
	phase421Mail               // 421 at MAIL FROM, closing: a relay going down
	phase554Mail               // 554 at MAIL FROM: an authorisation change
	phase550AllRcpt            // 550 to every recipient: a relay refusing everyone
	numPhases
)

func (p relayPhase) String() string {
	return [...]string{"ok", "451 at RCPT", "421 at MAIL", "554 at MAIL", "550 to every RCPT"}[p]
}

// chaosRelay is an SMTP relay whose answers follow the phase and which
// counts the replies it accepted per recipient.
type chaosRelay struct {
	addr  string
	phase atomic.Int32

	mu    sync.Mutex
	got   map[string]int
	first map[string]time.Time // when each recipient's first reply arrived
}

// explainedBy is how long before a kill a reply may have been taken by
// the relay and still be sent again after the restart: the relay's
// deletion of a sent record waits up to store.DefaultDoneDelay (50 ms) for
// a shared transaction, plus its fsync, on a loaded machine.
const explainedBy = time.Second

func startChaosRelay(t *testing.T) *chaosRelay {
	t.Helper()
	r := &chaosRelay{got: map[string]int{}, first: map[string]time.Time{}}
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	r.addr = l.Addr().String()
	s := smtp.NewServer(smtp.BackendFunc(func(*smtp.Conn) (smtp.Session, error) { return &chaosSession{r: r}, nil }))
	s.Domain = "relay.example.net"
	s.AllowInsecureAuth = true
	s.ErrorLog = testLogger{t}
	go s.Serve(l)
	t.Cleanup(func() { s.Close() })
	return r
}

func (r *chaosRelay) count() (distinct, total int) {
	r.mu.Lock()
	defer r.mu.Unlock()
	for _, n := range r.got {
		total += n
	}
	return len(r.got), total
}

type chaosSession struct {
	r  *chaosRelay
	to []string
}

func (s *chaosSession) Reset()        { s.to = nil }
func (s *chaosSession) Logout() error { return nil }

func (s *chaosSession) Mail(string, *smtp.MailOptions) error {
	switch relayPhase(s.r.phase.Load()) {
	case phase421Mail:
		return &smtp.SMTPError{Code: 421, EnhancedCode: smtp.EnhancedCode{4, 3, 2}, Message: "Shutting down"}
	case phase554Mail:
		return &smtp.SMTPError{Code: 554, EnhancedCode: smtp.EnhancedCode{5, 7, 1}, Message: "Relay access denied"}
	}
	return nil
}

func (s *chaosSession) Rcpt(to string, _ *smtp.RcptOptions) error {
	switch relayPhase(s.r.phase.Load()) {
	case phase451Rcpt:
		return &smtp.SMTPError{Code: 451, EnhancedCode: smtp.EnhancedCode{4, 3, 0}, Message: "Try later"}
	case phase550AllRcpt:
		return &smtp.SMTPError{Code: 550, EnhancedCode: smtp.EnhancedCode{5, 7, 1}, Message: "Relaying denied"}
	}
	s.to = append(s.to, to)
	return nil
}

func (s *chaosSession) Data(r io.Reader) error {
	if _, err := io.Copy(io.Discard, r); err != nil {
		return err
	}
	s.r.mu.Lock()
	defer s.r.mu.Unlock()
	for _, to := range s.to {
		if s.r.got[to] == 0 {
			s.r.first[to] = time.Now()
		}
		s.r.got[to]++
	}
	return nil
}

// envInt reads a positive integer from the environment, or def.
func envInt(t *testing.T, name string, def int) int {
	v := os.Getenv(name)
	if v == "" {
		return def
	}
	n, err := strconv.Atoi(v)
	if err != nil || n <= 0 {
		t.Fatalf("%s=%q: want a positive integer", name, v)
	}
	return n
}

func TestChaos(t *testing.T) {
	rounds := envInt(t, "VACATIOND_CHAOS_ROUNDS", 6)
	const clients, workers = 4, 4
	seed := uint64(time.Now().UnixNano())
	if v := os.Getenv("VACATIOND_CHAOS_SEED"); v != "" {
		seed, _ = strconv.ParseUint(v, 10, 64)
	}
	t.Logf("rounds %d, seed %d (VACATIOND_CHAOS_SEED replays it)", rounds, seed)
	rng := rand.New(rand.NewPCG(seed, seed^0x9e3779b97f4a7c15))

	rl := startChaosRelay(t)
	v := startVacationd(t, nil, "--scripts", onceScripts(t), "--relay", rl.addr,
		"--relay-workers", strconv.Itoa(workers), "--retry-min", "100ms", "--retry-max", "400ms",
		"--health-max-outbox-age", "0",
		// The load is far above normal use: the global backscatter limit
		// would refuse replies the accounting expects.
		"-o", "sieve_vacation_max_replies_per_minute=0")

	var (
		mu     sync.Mutex
		acked  = map[string]bool{} // senders whose message got 250
		tried  = map[string]bool{} // senders whose message was sent at least once
		next   atomic.Int64
		failed atomic.Int64 // sessions that failed (killed mid-way, refused)
	)
	send := func(from string) bool {
		mu.Lock()
		tried[from] = true
		mu.Unlock()
		codes, err := lmtpTry(v.lmtp, from, []string{"bob@example.com"}, message(from, "chaos-"+from))
		if err != nil || codes["bob@example.com"] != 250 {
			failed.Add(1)
			return false
		}
		mu.Lock()
		acked[from] = true
		mu.Unlock()
		return true
	}

	var killedAt []time.Time
	for round := range rounds {
		phase := relayPhase(rng.IntN(int(numPhases)))
		rl.phase.Store(int32(phase))
		ctx, cancel := context.WithCancel(context.Background())
		var wg sync.WaitGroup
		for range clients {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for ctx.Err() == nil {
					send(fmt.Sprintf("s%06d@example.org", next.Add(1)))
				}
			}()
		}
		time.Sleep(time.Duration(300+rng.IntN(900)) * time.Millisecond)
		v.kill() // SIGKILL while clients deliver and the relay works
		killedAt = append(killedAt, time.Now())
		cancel()
		wg.Wait()
		distinct, _ := rl.count()
		t.Logf("round %d: relay %s; %d senders acknowledged so far, %d replies at the relay", round, phase, len(acked), distinct)
		v.start()
	}

	// The relay recovers; clients retry what was never acknowledged, as
	// Postfix retries a deferred message.
	rl.phase.Store(int32(phaseOK))
	for from := range tried {
		if acked[from] {
			continue
		}
		peertest.WaitFor(t, arriveTimeout, "retry of "+from+" acknowledged", func() bool { return send(from) })
	}
	want := len(acked)
	peertest.WaitFor(t, 2*arriveTimeout, fmt.Sprintf("replies to all %d acknowledged senders", want), func() bool {
		distinct, _ := rl.count()
		return distinct >= want
	})
	v.waitMetric("vacationd_outbox_depth", 0)
	time.Sleep(300 * time.Millisecond) // anything still in flight lands

	rl.mu.Lock()
	defer rl.mu.Unlock()
	var lost, unexplained []string
	dups := 0
	for from := range acked {
		switch n := rl.got[from]; {
		case n == 0:
			lost = append(lost, from)
		case n > 1:
			dups += n - 1
			explained := false
			for _, k := range killedAt {
				if d := k.Sub(rl.first[from]); d >= 0 && d < explainedBy {
					explained = true
				}
			}
			if !explained || n > 2 {
				unexplained = append(unexplained, fmt.Sprintf("%s (%d replies)", from, n))
			}
		}
	}
	for to := range rl.got {
		if !acked[to] {
			t.Errorf("reply to %s, which never sent a message that was acknowledged", to)
		}
	}
	total := 0
	for _, n := range rl.got {
		total += n
	}
	t.Logf("%d kills, %d senders acknowledged, %d replies delivered, %d duplicates (each sent just before a kill), %d failed sessions",
		len(killedAt), len(acked), total, dups, failed.Load())
	if len(lost) > 0 {
		t.Errorf("%d acknowledged replies lost: %s", len(lost), strings.Join(lost[:min(len(lost), 10)], ", "))
	}
	if len(unexplained) > 0 {
		t.Errorf("%d duplicates not explained by a kill (first reply more than %s before any kill, or more than two): %s",
			len(unexplained), explainedBy, strings.Join(unexplained[:min(len(unexplained), 10)], ", "))
	}
	for series, n := range v.metrics() {
		if strings.HasPrefix(series, "vacationd_outbox_dropped_total") && n != 0 {
			t.Errorf("%s = %v since the last start: replies dropped", series, n)
		}
	}
	if len(acked) == 0 {
		t.Error("no message was acknowledged: the load never ran")
	}
}
