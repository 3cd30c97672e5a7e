package transport

import (
	"bufio"
	"context"
	"io"
	"log/slog"
	"net"
	"strings"
	"testing"
)

type nopDeliverer struct{}

func (nopDeliverer) Deliver(_ context.Context, env *Envelope, _ []byte) []Status {
	st := make([]Status, len(env.Recipients))
	for i := range st {
		st[i] = Status{Code: 250, Enhanced: [3]int{2, 0, 0}, Message: "OK"}
	}
	return st
}

var benchMsg = "From: a@example.org\r\nTo: b@example.com\r\nSubject: bench\r\n\r\n" +
	strings.Repeat("0123456789abcdefghijklmnopqrstuvwxyz0123456789abcdefghijklmnopqrstuvwxyz\r\n", 13) // ~1 KiB

// benchSession runs b.N transactions (or those RunParallel hands it) on one
// pipelined LMTP connection.
func benchSession(b *testing.B, addr string, next func() bool) {
	c, err := net.Dial("tcp", addr)
	if err != nil {
		b.Error(err)
		return
	}
	defer c.Close()
	r := bufio.NewReader(c)
	w := bufio.NewWriter(c)
	// readReply reports a failure with b.Error (RunParallel goroutines may
	// not call b.Fatal).
	readReply := func(code string) bool {
		for {
			line, err := r.ReadString('\n')
			if err != nil {
				b.Error(err)
				return false
			}
			if !strings.HasPrefix(line, code) || len(line) < 4 {
				b.Errorf("reply %q, want %s", line, code)
				return false
			}
			if line[3] == ' ' {
				return true
			}
		}
	}
	if !readReply("220") {
		return
	}
	io.WriteString(w, "LHLO bench.test\r\n")
	w.Flush()
	if !readReply("250") {
		return
	}
	txn := "MAIL FROM:<a@example.org>\r\nRCPT TO:<b@example.com>\r\nDATA\r\n" + benchMsg + ".\r\n"
	for next() {
		io.WriteString(w, txn)
		w.Flush()
		// MAIL, RCPT, DATA, then the per-recipient reply.
		if !readReply("250") || !readReply("250") || !readReply("354") || !readReply("250") {
			return
		}
	}
}

func benchServer(b *testing.B) string {
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	_, addr := startServer(b, Config{Deliverer: nopDeliverer{}, Logger: log, MaxConns: 1024})
	return addr
}

// BenchmarkLMTPDeliver measures one pipelined LMTP transaction (1 KiB,
// one recipient) on a kept-open connection with a no-op Deliverer.
func BenchmarkLMTPDeliver(b *testing.B) {
	addr := benchServer(b)
	b.SetBytes(int64(len(benchMsg)))
	b.ReportAllocs()
	b.ResetTimer()
	i := 0
	benchSession(b, addr, func() bool { i++; return i <= b.N })
}

// BenchmarkLMTPDeliverParallel runs sessions on GOMAXPROCS connections.
func BenchmarkLMTPDeliverParallel(b *testing.B) {
	addr := benchServer(b)
	b.SetBytes(int64(len(benchMsg)))
	b.ReportAllocs()
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) { benchSession(b, addr, pb.Next) })
}

// BenchmarkSenderSend measures one reply submitted to an in-process relay
// over a reused connection (RSET, EHLO, MAIL, RCPT, DATA).
func BenchmarkSenderSend(b *testing.B) {
	r := &relay{discard: true}
	addr, _ := startRelay(b, r, nil, nil)
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	s, err := NewSender(SenderConfig{Addr: addr, HeloName: "bench.test", Logger: log})
	if err != nil {
		b.Fatal(err)
	}
	defer s.Close()
	msg := []byte(benchMsg)
	ctx := context.Background()
	b.SetBytes(int64(len(msg)))
	b.ReportAllocs()
	b.ResetTimer()
	for range b.N {
		if err := s.Send(ctx, "", []string{"alice@example.org"}, msg); err != nil {
			b.Fatal(err)
		}
	}
	b.StopTimer()
	if n := r.count.Load(); n != int64(b.N) {
		b.Fatalf("relay got %d messages, want %d", n, b.N)
	}
}

// BenchmarkForwarder measures one message forwarded over LMTP to an
// in-process server with a no-op Deliverer, on a reused connection.
func BenchmarkForwarder(b *testing.B) {
	addr := benchServer(b)
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	f, err := NewForwarder(ForwarderConfig{Target: "lmtp:" + addr, LHLOName: "bench.test", Logger: log})
	if err != nil {
		b.Fatal(err)
	}
	defer f.Close()
	msg := []byte(benchMsg)
	to := []Recipient{{Addr: "b@example.com"}}
	ctx := context.Background()
	b.SetBytes(int64(len(msg)))
	b.ReportAllocs()
	b.ResetTimer()
	for range b.N {
		if st := f.Forward(ctx, "a@example.org", to, "", msg); !st[0].OK() {
			b.Fatal(st[0])
		}
	}
}
