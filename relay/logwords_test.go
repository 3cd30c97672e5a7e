package relay

import (
	"context"
	"log/slog"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/vacationd/vacationd/internal/peertest"
	"github.com/vacationd/vacationd/store"
)

// sent (the relay answered 250), retried and dropped are distinct words
// in the log (outbox=...) and distinct metrics; queued is delivery's.
func TestOutcomeWordsInLogsAndMetrics(t *testing.T) {
	db, err := store.Open(filepath.Join(t.TempDir(), "v.db"), store.Options{NoSync: true})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	logs := &peertest.SyncBuffer{}
	m := NewMetrics(nil)
	s := &scriptedSender{sent: map[string]int{}, refuse: func(to string) bool { return to == "bad@example.org" }}
	r, err := New(Config{DB: db, NewSender: func() Sender { return s }, Workers: 1, IsTemporary: isTemp,
		RetryMin: 10 * time.Millisecond, RetryMax: 20 * time.Millisecond,
		Logger: slog.New(slog.NewTextHandler(logs, nil)), Metrics: m})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- r.Run(ctx) }()
	defer func() { cancel(); <-done }()
	queue(t, db, "bad@example.org", "good@example.org")
	waitUntil(t, "bad dropped", func() bool {
		d, _ := db.ListDropped()
		return len(d) == 1
	})
	waitUntil(t, "good sent", func() bool { return s.count("good@example.org") == 1 })
	waitUntil(t, "log lines", func() bool {
		l := logs.String()
		return strings.Contains(l, "outbox=sent") && strings.Contains(l, "outbox=dropped")
	})
	l := logs.String()
	if !strings.Contains(l, "outbox=retried") {
		t.Errorf("no outbox=retried line (the first refusal is retried until confirmed):\n%s", l)
	}
	if strings.Contains(l, "outbox=queued") {
		t.Errorf("the relay logs queued:\n%s", l)
	}
	if m.Sent.Value("vacation") != 1 || m.Retried.Value("vacation") == 0 {
		t.Errorf("sent %d retried %d", m.Sent.Value("vacation"), m.Retried.Value("vacation"))
	}
}
