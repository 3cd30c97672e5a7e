package relay

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"net"
	"path/filepath"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/emersion/go-smtp"
	"github.com/vacationd/vacationd/store"
	"github.com/vacationd/vacationd/transport"
)

// sink is an in-process SMTP server that counts and discards messages.
type sink struct{ n atomic.Int64 }

func (s *sink) NewSession(*smtp.Conn) (smtp.Session, error) { return sinkSession{s}, nil }

type sinkSession struct{ s *sink }

func (sinkSession) Mail(string, *smtp.MailOptions) error { return nil }
func (sinkSession) Rcpt(string, *smtp.RcptOptions) error { return nil }
func (ss sinkSession) Data(r io.Reader) error {
	_, err := io.Copy(io.Discard, r)
	ss.s.n.Add(1)
	return err
}
func (sinkSession) Reset()        {}
func (sinkSession) Logout() error { return nil }

// BenchmarkRelay measures the outbox end to end: 8 producers commit one
// 1 KiB reply per call, durably (fsync), as LMTP sessions do, while the
// relay's workers send them over transport.Sender (pipelined, reused
// connections) to an in-process SMTP sink and delete them. It reports the
// replies per second counted at the sink and the store transactions
// (fsyncs) per reply, commits and deletions together.
func BenchmarkRelay(b *testing.B) {
	for _, workers := range []int{4, 16} {
		b.Run(fmt.Sprintf("workers=%d", workers), func(b *testing.B) { benchRelay(b, workers) })
	}
}

func benchRelay(b *testing.B, workers int) {
	db, err := store.Open(filepath.Join(b.TempDir(), "v.db"), store.Options{})
	if err != nil {
		b.Fatal(err)
	}
	defer db.Close()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		b.Fatal(err)
	}
	sk := &sink{}
	srv := smtp.NewServer(sk)
	srv.Domain = "sink.test"
	go srv.Serve(l)
	defer srv.Close()
	log := slog.New(slog.DiscardHandler)
	sender, err := transport.NewSender(transport.SenderConfig{Addr: l.Addr().String(), HeloName: "bench.test",
		TLS: transport.TLSNone, MaxIdle: workers, Logger: log})
	if err != nil {
		b.Fatal(err)
	}
	defer sender.Close()
	r, err := New(Config{DB: db, NewSender: func() Sender { return shared{sender} }, IsTemporary: transport.IsTemporary,
		Workers: workers, Logger: log})
	if err != nil {
		b.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- r.Run(ctx) }()
	msg := make([]byte, 1024)
	for i := range msg {
		msg[i] = 'a' + byte(i%26)
	}
	copy(msg, "Subject: Away\r\n\r\n")
	tx0 := db.WriterStats().Transactions
	b.ReportAllocs()
	b.ResetTimer()
	var next atomic.Int64
	var wg sync.WaitGroup
	for range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := next.Add(1); i <= int64(b.N); i = next.Add(1) {
				rec := &store.OutboxRecord{To: []string{fmt.Sprintf("s%d@example.org", i)}, Message: msg, Kind: store.KindVacation}
				if err := db.Commit(ctx, nil, []*store.OutboxRecord{rec}); err != nil {
					b.Error(err)
					return
				}
			}
		}()
	}
	wg.Wait()
	for deadline := time.Now().Add(time.Minute); sk.n.Load() < int64(b.N); time.Sleep(time.Millisecond) {
		if time.Now().After(deadline) {
			b.Fatalf("%d of %d replies at the sink after a minute", sk.n.Load(), b.N)
		}
	}
	b.StopTimer()
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "replies/s")
	cancel()
	<-done // the last deletions are stored
	b.ReportMetric(float64(db.WriterStats().Transactions-tx0)/float64(b.N), "fsyncs/reply")
	if n, _, err := db.OutboxStats(time.Now()); err != nil || n != 0 {
		b.Errorf("outbox holds %d records after the run (%v), want 0", n, err)
	}
}

type shared struct{ s *transport.Sender }

func (s shared) Send(ctx context.Context, from string, to []string, msg []byte) error {
	return s.s.Send(ctx, from, to, msg)
}
func (shared) Close() error { return nil }
