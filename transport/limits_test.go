package transport

import (
	"context"
	"fmt"
	"net/netip"
	"strings"
	"testing"
	"time"
)

// blocker is a Deliverer that holds each message until released.
type blocker struct {
	got     chan int // size of each message as it arrives
	release chan struct{}
}

func (b *blocker) Deliver(_ context.Context, env *Envelope, msg []byte) []Status {
	b.got <- len(msg)
	<-b.release
	st := make([]Status, len(env.Recipients))
	for i := range st {
		st[i] = StatusOK("saved")
	}
	return st
}

// TestInflightBudget: with one message held in memory, a MAIL FROM whose
// SIZE would not fit gets 452, and so does each recipient of a message
// that runs over the budget while being read, through DATA and through
// BDAT; the sessions stay in step, and once the first message is answered
// the budget is free again.
func TestInflightBudget(t *testing.T) {
	for _, how := range []string{"DATA", "BDAT"} {
		t.Run(how, func(t *testing.T) {
			b := &blocker{got: make(chan int, 4), release: make(chan struct{})}
			srv, addr := startServer(t, Config{Deliverer: b, MaxInflightBytes: 10000})
			big := "Subject: big\r\n\r\n" + strings.Repeat("x", 7000) + "\r\n"
			// sized: MAIL FROM declares SIZE, as Postfix does.
			send := func(lc *lineClient, body string, rcpts int, sized bool) {
				if sized {
					lc.cmd(fmt.Sprintf("MAIL FROM:<a@example.org> SIZE=%d", len(body)), 250)
				} else {
					lc.cmd("MAIL FROM:<a@example.org>", 250)
				}
				for i := range rcpts {
					lc.cmd(fmt.Sprintf("RCPT TO:<b%d@example.com>", i), 250)
				}
				if how == "DATA" {
					lc.cmd("DATA", 354)
					lc.send(body + ".\r\n")
				} else {
					lc.send(fmt.Sprintf("BDAT %d LAST\r\n%s", len(body), body))
				}
			}
			first := dialLine(t, "tcp", addr)
			first.expect(220)
			first.cmd("LHLO c", 250)
			send(first, big, 1, true)
			if n := <-b.got; n != len(big) {
				t.Fatalf("held message of %d octets", n)
			}
			if st := srv.Stats(); st.InflightBytes != int64(len(big)+2) {
				t.Errorf("InflightBytes %d, want %d (the declared SIZE and the CRLF margin)", st.InflightBytes, len(big)+2)
			}

			lc := dialLine(t, "tcp", addr)
			lc.expect(220)
			lc.cmd("LHLO c", 250)
			if text := lc.cmd("MAIL FROM:<a@example.org> SIZE=5000", 452); !strings.HasPrefix(text, "4.3.1 ") {
				t.Errorf("MAIL with SIZE over the budget: %q", text)
			}
			send(lc, big, 2, false) // no SIZE: runs over while read
			for range 2 {
				if text := lc.expect(452); !strings.Contains(text, "4.3.1") {
					t.Errorf("recipient reply %q", text)
				}
			}
			lc.cmd("NOOP", 250)
			if st := srv.Stats(); st.OverBudget != 2 {
				t.Errorf("OverBudget %d, want 2", st.OverBudget)
			}

			close(b.release)
			first.expect(250)
			send(lc, big, 1, true)
			<-b.got
			lc.expect(250)
			waitFor(t, func() bool { return srv.Stats().InflightBytes == 0 })
		})
	}
}

// TestMaxConnsPerIP: connections from one address beyond the cap get 421
// and are closed; closing one makes room.
func TestMaxConnsPerIP(t *testing.T) {
	log, logs := testLogger(t)
	srv, addr := startServer(t, Config{Deliverer: &recorder{}, MaxConns: 100, MaxConnsPerIP: 2, Logger: log})
	a := dialLine(t, "tcp", addr)
	a.expect(220)
	b := dialLine(t, "tcp", addr)
	b.expect(220)
	for range 3 * logBurst {
		c := dialLine(t, "tcp", addr)
		if text := c.expect(421); !strings.HasPrefix(text, "4.7.0 ") {
			t.Fatalf("reply %q", text)
		}
		c.c.Close()
	}
	if st := srv.Stats(); st.BusyPerIP != 3*logBurst || st.Busy != 0 {
		t.Errorf("BusyPerIP %d Busy %d", st.BusyPerIP, st.Busy)
	}
	// The refusals any client can cause are logged at most logBurst times
	// an interval.
	if n := strings.Count(logs.String(), "limit per client address reached"); n != logBurst {
		t.Errorf("%d refusal lines logged, want %d", n, logBurst)
	}
	a.cmd("QUIT", 221)
	waitFor(t, func() bool { return srv.Stats().Active == 1 })
	c := dialLine(t, "tcp", addr)
	c.expect(220)
}

// TestGreetTimeout: a connection that sends nothing is cut after
// GreetTimeout, well before ReadTimeout; one that has spoken keeps
// ReadTimeout.
func TestGreetTimeout(t *testing.T) {
	_, addr := startServer(t, Config{Deliverer: &recorder{}, GreetTimeout: 300 * time.Millisecond, ReadTimeout: time.Minute})
	talker := dialLine(t, "tcp", addr)
	talker.expect(220)
	talker.cmd("LHLO c", 250)
	silent := dialLine(t, "tcp", addr)
	silent.expect(220)
	if text := silent.expect(421); !strings.Contains(text, "timeout") {
		t.Errorf("reply %q", text)
	}
	time.Sleep(500 * time.Millisecond) // past GreetTimeout for the talker too
	talker.cmd("NOOP", 250)
}

func TestLogLimiter(t *testing.T) {
	var l logLimiter
	t0 := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	for i := range logBurst {
		if ok, _ := l.allow("k", t0.Add(time.Duration(i)*time.Millisecond)); !ok {
			t.Fatalf("line %d held back", i)
		}
	}
	for range 5 {
		if ok, _ := l.allow("k", t0.Add(time.Second)); ok {
			t.Fatal("line over the burst let through")
		}
	}
	if ok, _ := l.allow("other", t0.Add(time.Second)); !ok {
		t.Error("another kind held back")
	}
	ok, held := l.allow("k", t0.Add(logInterval))
	if !ok || held != 5 {
		t.Errorf("next interval: ok %v held %d, want true 5", ok, held)
	}
}

// TestMaxConnsPerIPProxied: behind a proxy the cap applies to the client
// address the PROXY header carries, not to the proxy, whether the header
// is required or optional.
func TestMaxConnsPerIPProxied(t *testing.T) {
	loopback := []netip.Prefix{netip.MustParsePrefix("127.0.0.0/8")}
	for _, mode := range []ProxyMode{ProxyRequired, ProxyOptional} {
		t.Run(mode.String(), func(t *testing.T) {
			srv, addr := startServer(t, Config{Deliverer: &recorder{}, MaxConnsPerIP: 1,
				Proxy: mode, ProxyTrusted: loopback, ProxyTimeout: 10 * time.Second})
			dial := func(client string) *lineClient {
				lc := dialLine(t, "tcp", addr)
				lc.send("PROXY TCP4 " + client + " 198.51.100.1 4567 2424\r\n")
				if mode == ProxyOptional {
					lc.expect(220) // greeted before the header is read
				}
				return lc
			}
			a := dial("192.0.2.7")
			if mode == ProxyRequired {
				a.expect(220)
			}
			a.cmd("LHLO c", 250)
			b := dial("192.0.2.7")
			if text := b.expect(421); !strings.HasPrefix(text, "4.7.0 ") {
				t.Fatalf("second connection from the same client: %q", text)
			}
			c := dial("192.0.2.8") // another client through the same proxy
			if mode == ProxyRequired {
				c.expect(220)
			}
			c.cmd("LHLO c", 250)
			if st := srv.Stats(); st.BusyPerIP != 1 {
				t.Errorf("BusyPerIP %d", st.BusyPerIP)
			}
			a.cmd("QUIT", 221)
			waitFor(t, func() bool { return srv.Stats().Active == 1 })
			d := dial("192.0.2.7")
			if mode == ProxyRequired {
				d.expect(220)
			}
			d.cmd("LHLO c", 250)
		})
	}
}
