//go:build e2e

package e2e

import (
	"errors"
	"fmt"
	"math/rand/v2"
	"net"
	"os/exec"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/emersion/go-smtp"

	"github.com/vacationd/vacationd/internal/peertest"
)

// The replica tests run 3 vacationd replicas sharing one PostgreSQL
// behind HAProxy round-robin, as the README's "Several replicas" section
// sets them up, and check that faults lose no acknowledged reply and
// double none beyond those in flight at a kill.

const (
	replicaCount = 3
	// killLease is short so that a killed replica's claims pass to the
	// others quickly. The PostgreSQL restart runs with the default (30s),
	// which outlasts the outage: a relay that sent a reply while the
	// database was down deletes it once it is back, before anyone else
	// may claim it.
	killLease = "2s"
	// loadSessions deliver at once, at most loadPerSession messages each.
	loadSessions, loadPerSession = 10, 300
	// repeatedSenders is the pool the repeated senders come from.
	repeatedSenders = 12
	// loadTimeout bounds a load run.
	loadTimeout = 2 * time.Minute
)

// cluster is PostgreSQL, the replicas and HAProxy in front of them.
type cluster struct {
	pg       *peertest.Postgres
	url      string
	replicas []*vacationd
	front    string // HAProxy's LMTP address
	sinkAddr string
	sinks    []*peertest.Sink // every smtp-sink run, the last one current
}

// startCluster starts the replicas with --relay-lease lease and the
// extra flags.
func startCluster(t *testing.T, lease string, extra ...string) *cluster {
	t.Helper()
	needServe(t)
	c := &cluster{pg: peertest.StartPostgres(t, startTimeout, true), sinkAddr: peertest.FreeAddr(t)}
	c.url = c.pg.CreateDB(t)
	out, err := exec.Command(binary, "migrate", "--state", c.url).CombinedOutput()
	if err != nil || !strings.Contains(string(out), "applied") {
		t.Fatalf("vacationd migrate: %v\n%s", err, out)
	}
	scripts := onceScripts(t)
	var lmtps []string
	for range replicaCount {
		v := startVacationd(t, nil, append([]string{"--state", c.url, "--scripts", scripts, "--relay", c.sinkAddr,
			"--relay-lease", lease, "--retry-min", "200ms", "--retry-max", "1s", "--relay-workers", "4"}, extra...)...)
		c.replicas = append(c.replicas, v)
		lmtps = append(lmtps, v.lmtp)
	}
	c.front = peertest.StartHAProxy(t, startTimeout, peertest.HAProxy{Backends: lmtps})
	return c
}

func (c *cluster) startSink(t *testing.T) {
	t.Helper()
	c.sinks = append(c.sinks, peertest.StartSink(t, startTimeout, c.sinkAddr))
}

func (c *cluster) stopSink() { c.sinks[len(c.sinks)-1].Proc.Kill() }

// replies counts the replies every sink run received, by recipient.
func (c *cluster) replies(t *testing.T) map[string]int {
	t.Helper()
	got := map[string]int{}
	for _, sk := range c.sinks {
		for _, m := range sk.Mails(t) {
			if m.MailFrom == "" && len(m.Rcpts) == 0 {
				// A file smtp-sink had opened when it was killed: that
				// transaction got no 250, so the relay sent it again.
				t.Logf("%s: cut short by a sink kill (%d bytes)", m.File, len(m.Text))
				continue
			}
			if m.MailFrom != "<>" {
				t.Errorf("%s: MAIL FROM %s, want <>", m.File, m.MailFrom)
			}
			for _, r := range m.Rcpts {
				got[strings.Trim(r, "<>")]++
			}
		}
	}
	return got
}

// load is the delivering side: sessions that retry every message until
// it is acknowledged, as an MTA would.
type load struct {
	acked     sync.Map // sender -> true once a delivery was acknowledged
	tempfails atomic.Int64
	connErrs  atomic.Int64
	permfails atomic.Int64
	last      atomic.Value // the last failure, for the log
	done      chan struct{}
}

// run starts loadSessions sessions of up to loadPerSession messages, each
// stopping early once stop is closed: distinct senders, and senders
// repeated from a small pool; pause slows them down.
func (l *load) run(addr string, pause time.Duration, stop <-chan struct{}) {
	l.done = make(chan struct{})
	var wg sync.WaitGroup
	for s := range loadSessions {
		wg.Go(func() {
			for i := range loadPerSession {
				select {
				case <-stop:
					return
				default:
				}
				from := fmt.Sprintf("d%02d-%03d@example.org", s, i)
				if i%3 == 0 {
					from = fmt.Sprintf("r%02d@example.org", (s+i)%repeatedSenders)
				}
				msg := message(from, fmt.Sprintf("m%d-%d", s, i))
				for {
					code, err := lmtpOnce(addr, from, "bob@example.com", msg)
					if l.last.Load() == nil || err != nil || code != 250 {
						l.last.Store(fmt.Sprintf("%d %v", code, err))
					}
					switch {
					case err != nil:
						l.connErrs.Add(1)
					case code == 250:
						l.acked.Store(from, true)
					case code >= 500:
						l.permfails.Add(1)
					default:
						l.tempfails.Add(1)
					}
					if err == nil && code != 0 && code < 400 || code >= 500 {
						break
					}
					time.Sleep(100 * time.Millisecond)
				}
				time.Sleep(pause)
			}
		})
	}
	go func() {
		wg.Wait()
		close(l.done)
	}()
}

func (l *load) String() string {
	return fmt.Sprintf("%d senders acknowledged, %d 4xx, %d 5xx, %d broken sessions (last failure: %v)",
		len(l.senders()), l.tempfails.Load(), l.permfails.Load(), l.connErrs.Load(), l.last.Load())
}

// wait waits for the load to finish, failing the test after loadTimeout.
func (l *load) wait(t *testing.T) {
	t.Helper()
	select {
	case <-l.done:
	case <-time.After(loadTimeout):
		t.Fatalf("load not done after %s: %s", loadTimeout, l)
	}
}

func (l *load) senders() []string {
	var out []string
	l.acked.Range(func(k, _ any) bool {
		out = append(out, k.(string))
		return true
	})
	return out
}

// lmtpOnce delivers msg to one recipient and returns its LMTP code; a
// broken connection (a killed replica) is an error to retry.
func lmtpOnce(addr, from, rcpt string, msg []byte) (int, error) {
	conn, err := net.DialTimeout("tcp", addr, 5*time.Second)
	if err != nil {
		return 0, err
	}
	cl := smtp.NewClientLMTP(conn)
	cl.CommandTimeout, cl.SubmissionTimeout = commandTimeout, commandTimeout
	defer cl.Close()
	code := func(err error) (int, error) {
		var se *smtp.SMTPError
		if errors.As(err, &se) {
			return se.Code, nil
		}
		return 0, err
	}
	if err := cl.Hello("client.example.org"); err != nil {
		return code(err)
	}
	if err := cl.Mail(from, nil); err != nil {
		return code(err)
	}
	if err := cl.Rcpt(rcpt, nil); err != nil {
		return code(err)
	}
	w, err := cl.Data()
	if err != nil {
		return code(err)
	}
	if _, err := w.Write(msg); err != nil {
		return 0, err
	}
	resp, err := w.CloseWithLMTPResponse()
	var lerr smtp.LMTPDataError
	if errors.As(err, &lerr) && lerr[rcpt] != nil {
		return lerr[rcpt].Code, nil
	}
	if err != nil {
		return 0, err
	}
	if resp[rcpt] != nil {
		return 250, nil
	}
	return 0, errors.New("no LMTP answer for the recipient")
}

// checkReplies fails unless every acknowledged sender got a reply and no
// sender got more than one, beyond maxDups in total; it returns the
// number of duplicates.
func checkReplies(t *testing.T, l *load, got map[string]int, maxDups int) int {
	t.Helper()
	senders := l.senders()
	if len(senders) == 0 {
		t.Fatal("no delivery was acknowledged")
	}
	dups := 0
	for _, s := range senders {
		switch n := got[s]; {
		case n == 0:
			t.Errorf("acknowledged sender %s got no reply", s)
		case n > 1:
			dups += n - 1
		}
		delete(got, s)
	}
	for s, n := range got {
		// A delivery committed by a replica killed before its 250 was
		// retried and acknowledged, so every reply is to an acked sender.
		t.Errorf("reply to %s (%d), who has no acknowledged delivery", s, n)
	}
	if dups > maxDups {
		t.Errorf("%d duplicate replies, want at most %d (in flight at the kills)", dups, maxDups)
	}
	return dups
}

// waitDrained waits until the shared outbox is empty, as seen by a
// replica that is up.
func (c *cluster) waitDrained(t *testing.T) {
	t.Helper()
	v := c.replicas[0]
	peertest.WaitFor(t, 60*time.Second, "the shared outbox to drain", func() bool {
		m := v.metrics()
		d, ok := m["vacationd_outbox_depth"]
		return ok && d == 0
	})
}

// TestReplicasSurviveKills: load over 10 sessions while replicas are
// SIGKILLed and restarted at random and the relay sink is down, then up,
// then down and up again: every acknowledged sender gets its reply, once,
// except replies in flight at a kill, and the survivors drain the outbox.
func TestReplicasSurviveKills(t *testing.T) {
	c := startCluster(t, killLease)
	l := &load{}
	stop := make(chan struct{})
	l.run(c.front, 100*time.Millisecond, stop)
	// The faults, by time since the load started: the sink is down at
	// first, up at 3s, killed at 6s, up again at 8s; a random replica is
	// killed and restarted every second or so until 12s.
	start := time.Now()
	kills, sinkStops := 0, 0
	sinkUp := false
	for el := time.Duration(0); el < 12*time.Second; el = time.Since(start) {
		switch {
		case !sinkUp && sinkStops == 0 && el > 3*time.Second:
			c.startSink(t)
			sinkUp = true
		case sinkUp && sinkStops == 0 && el > 6*time.Second:
			c.stopSink()
			sinkUp, sinkStops = false, 1
		case !sinkUp && sinkStops == 1 && el > 8*time.Second:
			c.startSink(t)
			sinkUp = true
		}
		v := c.replicas[rand.IntN(len(c.replicas))]
		v.kill()
		kills++
		time.Sleep(time.Duration(200+rand.IntN(400)) * time.Millisecond)
		v.start()
		time.Sleep(time.Duration(300+rand.IntN(700)) * time.Millisecond)
	}
	close(stop)
	l.wait(t)
	if !sinkUp {
		c.startSink(t)
	}
	c.waitDrained(t)
	got := c.replies(t)
	// In flight at a kill: one record per relay worker of the killed
	// replica, or at the sink's kill.
	dups := checkReplies(t, l, got, (kills+sinkStops)*4)
	t.Logf("%s; %d replicas killed, sink stopped %d times, %d duplicate replies", l, kills, sinkStops, dups)
	if l.permfails.Load() > 0 {
		t.Errorf("%d permanent failures", l.permfails.Load())
	}
}

// TestReplicasPostgresRestart: PostgreSQL stops in the middle of the load
// and comes back: deliveries get 4xx while it is down, the replicas
// recover without a restart, nothing acknowledged is lost and nothing is
// doubled.
func TestReplicasPostgresRestart(t *testing.T) {
	c := startCluster(t, "30s")
	c.startSink(t)
	l := &load{}
	stop := make(chan struct{})
	l.run(c.front, 50*time.Millisecond, stop)
	time.Sleep(2 * time.Second)
	c.pg.Stop(t, stopTimeout)
	before := l.tempfails.Load()
	peertest.WaitFor(t, arriveTimeout, "/healthz 503 with PostgreSQL down", func() bool { return c.replicas[0].healthz() == 503 })
	time.Sleep(2 * time.Second)
	down := l.tempfails.Load() - before
	c.pg.Start(t, startTimeout)
	time.Sleep(2 * time.Second) // load after the restart too
	close(stop)
	l.wait(t)
	c.waitDrained(t)
	for i, v := range c.replicas {
		if v.p.Exited() {
			t.Errorf("replica %d exited: %v", i, v.p.Err())
		}
		if code := v.healthz(); code != 200 {
			t.Errorf("replica %d /healthz %d after PostgreSQL came back", i, code)
		}
		if n := v.metric("vacationd_postgres_connections_max"); n != 32 {
			t.Errorf("replica %d vacationd_postgres_connections_max = %v, want 32", i, n)
		}
	}
	if down == 0 {
		t.Error("no 4xx while PostgreSQL was down")
	}
	checkReplies(t, l, c.replies(t), 0)
	t.Logf("%s; %d 4xx while PostgreSQL was down", l, down)
	if l.permfails.Load() > 0 {
		t.Errorf("%d permanent failures", l.permfails.Load())
	}
}
