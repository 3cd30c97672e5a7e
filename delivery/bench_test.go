package delivery

import (
	"context"
	"fmt"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/vacationd/vacationd/transport"
)

// benchMsg is a 1 KiB message like the ones bench-peers sends.
var benchMsg = []byte("From: Alice <alice@example.org>\r\nTo: Bob <bob@example.com>\r\nSubject: Meeting\r\n" +
	"Message-ID: <m1@example.org>\r\nDate: Thu, 26 Nov 2026 12:00:00 +0000\r\n\r\n" +
	strings.Repeat("0123456789abcdefghijklmnopqrstuvwxyz0123456789abcdefghijklmnopqrstuvwxyz\r\n", 13))

// benchDeliver runs Service.Deliver for one recipient from GOMAXPROCS*4
// goroutines; sender(i) is the envelope sender of message i.
func benchDeliver(b *testing.B, f *fixture, rcpt string, sender func(int64) string) {
	var n atomic.Int64
	b.SetBytes(int64(len(benchMsg)))
	b.ReportAllocs()
	b.SetParallelism(4)
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			env := &transport.Envelope{From: sender(n.Add(1)), Recipients: []transport.Recipient{{Addr: rcpt}}}
			if st := f.svc.Deliver(context.Background(), env, benchMsg); len(st) != 1 || st[0].Code != 250 {
				b.Errorf("status %v", st)
				return
			}
		}
	})
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "msg/s")
}

// BenchmarkDeliverDedup is the sidecar's common path: a vacation script
// (:days 3) and a sender already answered, so the decision is a dedup
// hit and nothing is written.
func BenchmarkDeliverDedup(b *testing.B) {
	f := newFixture(b, map[string]string{"example.com/bob.sieve": vacationScript}, nil)
	benchDeliver(b, f, "bob@example.com", func(int64) string { return "alice@example.org" })
}

// BenchmarkDeliverNoScript is a recipient without a script: the source
// finds none and the message is kept.
func BenchmarkDeliverNoScript(b *testing.B) {
	f := newFixture(b, map[string]string{"example.com/bob.sieve": vacationScript}, nil)
	benchDeliver(b, f, "carol@example.com", func(int64) string { return "alice@example.org" })
}

// BenchmarkDeliverReply is a new sender per message: every message gets a
// reply, composed and committed durably (fsync, shared by concurrent
// messages) with its dedup mark before Deliver returns.
func BenchmarkDeliverReply(b *testing.B) {
	f := newFixture(b, map[string]string{"example.com/bob.sieve": vacationScript}, nil)
	f.db.Close()
	f.fsync = true
	f.open(b, nil)
	tx0 := f.db.WriterStats().Transactions
	benchDeliver(b, f, "bob@example.com", func(i int64) string { return fmt.Sprintf("sender%d@example.org", i) })
	b.ReportMetric(float64(f.db.WriterStats().Transactions-tx0)/float64(b.N), "fsyncs/msg")
}
