// Command lmtpload is the load generator of make bench-peers: like
// Postfix's smtp-source it sends messages over concurrent LMTP (or SMTP)
// sessions, and it also times every message, so that the bench reports
// latency percentiles for vacationd and its peers measured the same way.
//
//	lmtpload -addr 127.0.0.1:2424 -s 10 -m 2000 [-reuse] [-from 'sender%d@example.org' -senders 500]
//
// A message's latency runs from the start of its transaction (from the
// connect, when each message has its own connection) to its last reply.
// MAIL, RCPT and DATA are pipelined when the server offers PIPELINING, and
// MAIL declares the SIZE when offered, as Postfix's lmtp and smtp clients do. It prints one line:
//
//	msgs=2000 ok=2000 failed=0 secs=1.234 rate=1620.7 p50_ms=3.210 p99_ms=9.870
//
// and exits 1 when a message was not accepted.
package main

import (
	"bufio"
	"flag"
	"fmt"
	"net"
	"os"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

func main() {
	var (
		addr     = flag.String("addr", "", "server address host:port")
		smtp     = flag.Bool("smtp", false, "speak SMTP (EHLO) instead of LMTP (LHLO)")
		sess     = flag.Int("s", 10, "concurrent sessions")
		msgs     = flag.Int("m", 1000, "messages in all")
		reuse    = flag.Bool("reuse", false, "send every message of a session over one connection (smtp-source -d)")
		from     = flag.String("from", "dave@example.org", "envelope sender; %d is replaced by the sender number")
		senders  = flag.Int("senders", 0, "with %d in -from: message i comes from sender i mod N (0: a new sender per message)")
		to       = flag.String("to", "bob@example.com", "recipient")
		size     = flag.Int("l", 1000, "approximate message size in bytes")
		timeout  = flag.Duration("timeout", time.Minute, "timeout of each reply")
		progress = flag.String("progress", "", "file to write \"UNIXTIME ACCEPTED\" lines to every 50ms")
	)
	flag.Parse()
	if *addr == "" || *sess < 1 || *msgs < 1 {
		flag.Usage()
		os.Exit(2)
	}
	g := &gen{addr: *addr, smtp: *smtp, from: *from, senders: *senders, to: *to, size: *size, timeout: *timeout}
	lat := make([]time.Duration, *msgs)
	var next, failed atomic.Int64
	var firstErr sync.Once
	var accepted atomic.Int64
	stopProgress := func() {}
	if *progress != "" {
		f, err := os.Create(*progress)
		if err != nil {
			fmt.Fprintln(os.Stderr, "lmtpload:", err)
			os.Exit(2)
		}
		done := make(chan struct{})
		finished := make(chan struct{})
		go func() {
			defer close(finished)
			t := time.NewTicker(50 * time.Millisecond)
			defer t.Stop()
			for {
				fmt.Fprintf(f, "%.3f %d\n", float64(time.Now().UnixNano())/1e9, accepted.Load())
				select {
				case <-t.C:
				case <-done:
					fmt.Fprintf(f, "%.3f %d\n", float64(time.Now().UnixNano())/1e9, accepted.Load())
					f.Close()
					return
				}
			}
		}()
		stopProgress = func() { close(done); <-finished }
	}
	start := time.Now()
	var wg sync.WaitGroup
	for range *sess {
		wg.Add(1)
		go func() {
			defer wg.Done()
			var c *conn
			defer func() {
				if c != nil {
					c.quit()
				}
			}()
			for {
				i := int(next.Add(1) - 1)
				if i >= *msgs {
					return
				}
				t0 := time.Now()
				var err error
				if c == nil {
					c, err = g.dial()
				}
				if err == nil {
					err = c.send(g, i)
				}
				lat[i] = time.Since(t0)
				if err != nil {
					failed.Add(1)
					firstErr.Do(func() { fmt.Fprintf(os.Stderr, "lmtpload: message %d: %v\n", i, err) })
					if c != nil {
						c.nc.Close()
						c = nil
					}
					continue
				}
				accepted.Add(1)
				if !*reuse {
					c.quit()
					c = nil
				}
			}
		}()
	}
	wg.Wait()
	secs := time.Since(start).Seconds()
	stopProgress()
	slices.Sort(lat)
	q := func(p float64) float64 { return float64(lat[int(p*float64(len(lat)-1))].Microseconds()) / 1000 }
	ok := int64(*msgs) - failed.Load()
	fmt.Printf("msgs=%d ok=%d failed=%d secs=%.3f rate=%.1f p50_ms=%.3f p99_ms=%.3f\n",
		*msgs, ok, failed.Load(), secs, float64(ok)/secs, q(0.50), q(0.99))
	if failed.Load() > 0 {
		os.Exit(1)
	}
}

type gen struct {
	addr, from, to string
	smtp           bool
	senders, size  int
	timeout        time.Duration
}

type conn struct {
	nc   net.Conn
	r    *bufio.Reader
	w    *bufio.Writer
	pipe bool
	size bool // SIZE offered: MAIL FROM declares the message size
	to   time.Duration
}

func (g *gen) dial() (*conn, error) {
	nc, err := net.DialTimeout("tcp", g.addr, g.timeout)
	if err != nil {
		return nil, err
	}
	c := &conn{nc: nc, r: bufio.NewReader(nc), w: bufio.NewWriter(nc), to: g.timeout}
	if _, err := c.reply(220); err != nil {
		nc.Close()
		return nil, fmt.Errorf("greeting: %w", err)
	}
	hello := "LHLO"
	if g.smtp {
		hello = "EHLO"
	}
	fmt.Fprintf(c.w, "%s client.example.org\r\n", hello)
	c.w.Flush()
	ext, err := c.reply(250)
	if err != nil {
		nc.Close()
		return nil, fmt.Errorf("%s: %w", hello, err)
	}
	c.pipe = strings.Contains(strings.ToUpper(ext), "PIPELINING")
	c.size = strings.Contains(strings.ToUpper(ext), "SIZE")
	return c, nil
}

// reply reads one reply and checks its code; it returns the reply's text.
func (c *conn) reply(want int) (string, error) {
	c.nc.SetReadDeadline(time.Now().Add(c.to))
	var text strings.Builder
	for {
		line, err := c.r.ReadString('\n')
		if err != nil {
			return "", err
		}
		text.WriteString(line)
		if len(line) < 4 {
			return "", fmt.Errorf("bad reply %q", line)
		}
		if line[3] == '-' {
			continue
		}
		if line[:3] != fmt.Sprint(want) {
			return "", fmt.Errorf("reply %q, want %d", strings.TrimSpace(line), want)
		}
		return text.String(), nil
	}
}

// send runs one transaction for message i.
func (c *conn) send(g *gen, i int) error {
	from := g.from
	if strings.Contains(from, "%d") {
		n := i
		if g.senders > 0 {
			n = i % g.senders
		}
		from = fmt.Sprintf(from, n)
	}
	var msg strings.Builder
	fmt.Fprintf(&msg, "From: <%s>\r\nTo: <%s>\r\nSubject: load test %d\r\nMessage-ID: <load-%d-%d@example.org>\r\nDate: %s\r\n\r\n",
		from, g.to, i, time.Now().UnixNano(), i, time.Now().Format(time.RFC1123Z))
	line := strings.Repeat("x", 71) + "\r\n"
	for n := 0; n < g.size; n += len(line) {
		msg.WriteString(line)
	}
	mail := "MAIL FROM:<" + from + ">"
	if c.size {
		mail += fmt.Sprintf(" SIZE=%d", msg.Len()) // as Postfix's clients declare it
	}
	cmds := []string{mail, "RCPT TO:<" + g.to + ">", "DATA"}
	if c.pipe {
		for _, cmd := range cmds {
			c.w.WriteString(cmd + "\r\n")
		}
		c.w.Flush()
	}
	for k, cmd := range cmds {
		if !c.pipe {
			c.w.WriteString(cmd + "\r\n")
			c.w.Flush()
		}
		want := 250
		if k == 2 {
			want = 354
		}
		if _, err := c.reply(want); err != nil {
			return fmt.Errorf("%s: %w", cmd, err)
		}
	}
	c.w.WriteString(msg.String())
	c.w.WriteString(".\r\n")
	c.w.Flush()
	if _, err := c.reply(250); err != nil {
		return fmt.Errorf("end of DATA: %w", err)
	}
	return nil
}

func (c *conn) quit() {
	c.w.WriteString("QUIT\r\n")
	c.w.Flush()
	c.reply(221)
	c.nc.Close()
}
