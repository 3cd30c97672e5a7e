package transport

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"net"
	"strings"
	"sync"
	"testing"
	"time"
)

// lineServer is a scripted SMTP/LMTP server that records the commands it
// receives and, like Postfix, writes its replies when it has read every
// command the client sent. batched counts the MAIL commands that came in
// one write with the next command. closeOnMail closes the first
// connection, without a reply, at its n-th MAIL (0: never).
type lineServer struct {
	pipelining  bool
	lmtp        bool
	chunking    bool // offers CHUNKING (BDAT)
	closeOnMail int

	mu      sync.Mutex
	lines   []string
	conns   int
	msgs    int
	batched int
	bodies  []string // the messages received, as received
}

func (s *lineServer) start(t *testing.T) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { l.Close() })
	go func() {
		for {
			c, err := l.Accept()
			if err != nil {
				return
			}
			s.mu.Lock()
			s.conns++
			n := s.conns
			s.mu.Unlock()
			go s.serve(c, n)
		}
	}()
	return l.Addr().String()
}

func (s *lineServer) count(cmd string) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	n := 0
	for _, l := range s.lines {
		if strings.HasPrefix(l, cmd) {
			n++
		}
	}
	return n
}

func (s *lineServer) serve(c net.Conn, conn int) {
	defer c.Close()
	c.SetDeadline(time.Now().Add(10 * time.Second))
	r := bufio.NewReader(c)
	w := bufio.NewWriter(c)
	reply := func(s string) {
		w.WriteString(s + "\r\n")
		if r.Buffered() == 0 {
			w.Flush()
		}
	}
	reply("220 scripted")
	rcpts, mails := 0, 0
	for {
		line, err := r.ReadString('\n')
		if err != nil {
			return
		}
		line = strings.TrimRight(line, "\r\n")
		s.mu.Lock()
		s.lines = append(s.lines, line)
		s.mu.Unlock()
		switch cmd := strings.ToUpper(strings.Fields(line + " x")[0]); cmd {
		case "EHLO", "LHLO":
			ext := "250 SIZE 1000000"
			if s.pipelining {
				ext = "250-SIZE 1000000\r\n250 PIPELINING"
			}
			if s.chunking {
				ext = "250-CHUNKING\r\n" + ext
			}
			reply("250-scripted\r\n" + ext)
		case "MAIL":
			mails++
			if conn == 1 && mails == s.closeOnMail {
				return
			}
			s.mu.Lock()
			if r.Buffered() > 0 {
				s.batched++
			}
			s.mu.Unlock()
			rcpts = 0
			reply("250 2.1.0 ok")
		case "RCPT":
			if strings.Contains(line, "<bad") {
				reply("550 5.1.1 no such user")
			} else {
				rcpts++
				reply("250 2.1.5 ok")
			}
		case "DATA":
			if rcpts == 0 {
				reply("554 5.5.1 no valid recipients")
				continue
			}
			reply("354 go on")
			var body strings.Builder
			for {
				l, err := r.ReadString('\n')
				if err != nil {
					return
				}
				if l == ".\r\n" {
					break
				}
				body.WriteString(strings.TrimPrefix(l, "."))
			}
			s.mu.Lock()
			s.msgs++
			s.bodies = append(s.bodies, body.String())
			s.mu.Unlock()
			n := 1
			if s.lmtp {
				n = rcpts
			}
			for range n {
				reply("250 2.0.0 saved")
			}
		case "BDAT": // only BDAT n LAST, as the forwarder sends it
			var n int
			if _, err := fmt.Sscanf(line, "BDAT %d LAST", &n); err != nil {
				reply("501 5.5.4 bad BDAT")
				continue
			}
			chunk := make([]byte, n)
			if _, err := io.ReadFull(r, chunk); err != nil {
				return
			}
			if rcpts == 0 {
				reply("554 5.5.1 no valid recipients")
				continue
			}
			s.mu.Lock()
			s.msgs++
			s.bodies = append(s.bodies, string(chunk))
			s.mu.Unlock()
			n = 1
			if s.lmtp {
				n = rcpts
			}
			for range n {
				reply("250 2.0.0 saved")
			}
		case "QUIT":
			reply("221 bye")
			return
		default:
			reply("250 2.0.0 ok")
		}
	}
}

// TestSenderPipelining: with PIPELINING offered the envelope and DATA go
// in one write, a
// session is reused without RSET or a second EHLO after transactions
// that ended, and with RSET after one that did not; without PIPELINING
// each command waits for its reply.
func TestSenderPipelining(t *testing.T) {
	for _, pipe := range []bool{true, false} {
		t.Run(fmt.Sprint("pipelining=", pipe), func(t *testing.T) {
			srv := &lineServer{pipelining: pipe}
			addr := srv.start(t)
			s := newTestSender(t, SenderConfig{Addr: addr, TLS: TLSNone, CommandTimeout: 2 * time.Second})
			ctx := context.Background()
			for i, to := range []string{"a@example.org", "b@example.org", "bad@example.org", "c@example.org"} {
				err := s.Send(ctx, "", []string{to}, []byte(replyMsg))
				if (err != nil) != strings.HasPrefix(to, "bad") {
					t.Fatalf("send %d to %s: %v", i, to, err)
				}
			}
			if err := s.Send(ctx, "", []string{"d@example.org", "bad2@example.org"}, []byte(replyMsg)); err == nil || IsTemporary(err) {
				t.Errorf("send to a refused recipient: %v, want a permanent error", err)
			}
			if srv.msgs != 3 || srv.conns != 1 || srv.count("EHLO") != 1 || srv.count("RSET") != 1 {
				t.Errorf("%d messages, %d connections, %d EHLO, %d RSET; want 3, 1, 1, 1 (RSET after the first refusal only; the second is the last)\n%s",
					srv.msgs, srv.conns, srv.count("EHLO"), srv.count("RSET"), strings.Join(srv.lines, "\n"))
			}
			if want := map[bool]int{true: 5, false: 0}[pipe]; srv.batched != want {
				t.Errorf("%d of 5 MAIL commands sent with the next command, want %d", srv.batched, want)
			}
		})
	}
}

// TestSenderRetriesClosedSession: a pooled session the relay closed
// between the liveness check and MAIL is replaced, and the message sent
// once.
func TestSenderRetriesClosedSession(t *testing.T) {
	srv := &lineServer{pipelining: true, closeOnMail: 2}
	addr := srv.start(t)
	s := newTestSender(t, SenderConfig{Addr: addr, TLS: TLSNone})
	for _, to := range []string{"a@example.org", "b@example.org"} {
		if err := s.Send(context.Background(), "", []string{to}, []byte(replyMsg)); err != nil {
			t.Fatal(err)
		}
	}
	if srv.msgs != 2 || srv.conns != 2 {
		t.Errorf("%d messages over %d connections, want 2 over 2", srv.msgs, srv.conns)
	}
}

// TestForwarderPipelining: the forwarder pipelines, reuses its session
// without RSET, and maps per-recipient replies with and without
// PIPELINING.
func TestForwarderPipelining(t *testing.T) {
	for _, pipe := range []bool{true, false} {
		t.Run(fmt.Sprint("pipelining=", pipe), func(t *testing.T) {
			srv := &lineServer{pipelining: pipe, lmtp: true}
			addr := srv.start(t)
			f := newTestForwarder(t, "lmtp:"+addr)
			for range 3 {
				got := f.Deliver(context.Background(), "s@example.org", []string{"a@example.com", "bad@example.com", "b@example.com"}, []byte("x\r\n"))
				if !got[0].OK() || got[1].Code != 550 || !got[2].OK() {
					t.Fatalf("statuses %v, want 250, 550, 250", got)
				}
			}
			got := f.Deliver(context.Background(), "s@example.org", []string{"bad@example.com"}, []byte("x\r\n"))
			if got[0].Code != 550 {
				t.Fatalf("status %v, want 550", got)
			}
			if srv.msgs != 3 || srv.conns != 1 || srv.count("LHLO") != 1 || srv.count("RSET") != 0 {
				t.Errorf("%d messages, %d connections, %d LHLO, %d RSET; want 3, 1, 1, 0\n%s",
					srv.msgs, srv.conns, srv.count("LHLO"), srv.count("RSET"), strings.Join(srv.lines, "\n"))
			}
			if want := map[bool]int{true: 4, false: 0}[pipe]; srv.batched != want {
				t.Errorf("%d of 4 MAIL commands sent with the next command, want %d", srv.batched, want)
			}
		})
	}
}

// TestForwarderRetriesClosedSession is TestSenderRetriesClosedSession for
// the forwarder.
func TestForwarderRetriesClosedSession(t *testing.T) {
	srv := &lineServer{pipelining: true, lmtp: true, closeOnMail: 2}
	addr := srv.start(t)
	f := newTestForwarder(t, "lmtp:"+addr)
	for range 2 {
		if got := f.Deliver(context.Background(), "s@example.org", []string{"a@example.com"}, []byte("x\r\n")); !got[0].OK() {
			t.Fatalf("status %v", got)
		}
	}
	if srv.msgs != 2 || srv.conns != 2 {
		t.Errorf("%d messages over %d connections, want 2 over 2", srv.msgs, srv.conns)
	}
}

// TestForwarderChunking: an LMTP server that offers CHUNKING and
// PIPELINING gets a message of one recipient with BDAT, in the same write
// as MAIL and RCPT, byte for byte (no dot-stuffing); a refused recipient
// or sender leaves the session in step (the server reads the chunk it
// refuses), and a message of several recipients goes with DATA.
func TestForwarderChunking(t *testing.T) {
	srv := &lineServer{pipelining: true, lmtp: true, chunking: true}
	addr := srv.start(t)
	f := newTestForwarder(t, "lmtp:"+addr)
	ctx := context.Background()
	msg := "Subject: x\r\n\r\n.leading dot\r\nBDAT 3 LAST\r\n"
	got := f.Forward(ctx, "s@example.org", []Recipient{{Addr: "a@example.com"}}, "Received: by test\r\n", []byte(msg))
	if !got[0].OK() {
		t.Fatalf("status %v", got)
	}
	if got := f.Deliver(ctx, "s@example.org", []string{"bad@example.com"}, []byte("y\r\n")); got[0].Code != 550 {
		t.Fatalf("refused recipient: status %v, want 550", got)
	}
	if got := f.Deliver(ctx, "s@example.org", []string{"b@example.com"}, []byte("z\r\n")); !got[0].OK() {
		t.Fatalf("after a refusal: status %v", got)
	}
	got = f.Deliver(ctx, "s@example.org", []string{"a@example.com", "b@example.com"}, []byte("w\r\n"))
	if !got[0].OK() || !got[1].OK() {
		t.Fatalf("two recipients: statuses %v", got)
	}
	srv.mu.Lock()
	defer srv.mu.Unlock()
	want := []string{"Received: by test\r\n" + msg, "z\r\n", "w\r\n"}
	if fmt.Sprint(srv.bodies) != fmt.Sprint(want) {
		t.Errorf("messages received %q, want %q", srv.bodies, want)
	}
	bdat, data := 0, 0
	for _, l := range srv.lines {
		if strings.HasPrefix(l, "BDAT") {
			bdat++
		} else if l == "DATA" {
			data++
		}
	}
	if bdat != 3 || data != 1 || srv.conns != 1 || srv.batched != 4 {
		t.Errorf("%d BDAT, %d DATA, %d connections, %d MAIL sent with the next command; want 3, 1, 1, 4\n%s",
			bdat, data, srv.conns, srv.batched, strings.Join(srv.lines, "\n"))
	}
}
