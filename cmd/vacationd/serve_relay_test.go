package main

import (
	"context"
	"io"
	"log/slog"
	"net"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/vacationd/vacationd/internal/peertest"
	"github.com/vacationd/vacationd/store"
)

// refusingRelay accepts SMTP connections and refuses them at the greeting.
func refusingRelay(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ln.Close() })
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			io.WriteString(c, "554 5.3.2 not now\r\n")
			c.Close()
		}
	}()
	return ln.Addr().String()
}

// A reload points the relay workers at the new --relay (and re-reads the
// password file), and makes the replies waiting for a retry due at once
// when the relay settings changed; turning the relay off is refused.
func TestRelayReload(t *testing.T) {
	a, b := refusingRelay(t), refusingRelay(t)
	dir := t.TempDir()
	pw := writeFile(t, dir, "pw", "secret\n")
	args := []string{"--relay", a, "--relay-tls", "none", "--relay-auth-user", "u", "--relay-auth-password-file", pw}
	load := func() (*config, error) { return loadConfig(args, nil, io.Discard) }
	cfg, err := load()
	if err != nil {
		t.Fatal(err)
	}
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	rel := newReloader(cfg, load, log)
	db := openTestDB(t)
	later := time.Now().Add(time.Hour)
	rec := &store.OutboxRecord{To: []string{"alice@example.org"}, Message: []byte("Subject: x\r\n\r\nx\r\n"),
		Kind: store.KindVacation, NextAttempt: later}
	if err := db.Commit(context.Background(), nil, []*store.OutboxRecord{rec}); err != nil {
		t.Fatal(err)
	}
	next := func() time.Time {
		r, err := db.Get(rec.ID)
		if err != nil {
			t.Fatal(err)
		}
		return r.NextAttempt
	}
	_, s, err := newRelay(cfg.opts, db, prometheus.NewRegistry(), rel, log)
	if err != nil {
		t.Fatal(err)
	}
	defer s.closeAll()
	send := func() string {
		err := s.Send(context.Background(), "", []string{"alice@example.org"}, []byte("Subject: x\r\n\r\nx\r\n"))
		if err == nil {
			t.Fatal("the refusing relay accepted")
		}
		return err.Error()
	}
	if e := send(); !strings.Contains(e, a) {
		t.Fatalf("send before the reload: %s, want relay %s", e, a)
	}
	if err := rel.reload(); err != nil { // nothing changed
		t.Fatal(err)
	}
	time.Sleep(50 * time.Millisecond)
	if !next().Equal(later) {
		t.Fatalf("a reload without a relay change moved the waiting reply to %v", next())
	}
	args[1] = b
	if err := rel.reload(); err != nil {
		t.Fatal(err)
	}
	peertest.WaitFor(t, 10*time.Second, "the waiting reply due after the relay changed", func() bool { return next().Before(later) })
	if e := send(); !strings.Contains(e, b) {
		t.Errorf("send after the reload: %s, want relay %s", e, b)
	}
	args[len(args)-1] = dir + "/missing"
	if err := rel.reload(); err == nil || !strings.Contains(err.Error(), "--relay-auth-password-file") {
		t.Errorf("missing password file: %v", err)
	}
	args = []string{"--no-relay"}
	if err := rel.reload(); err == nil || !strings.Contains(err.Error(), "cannot be turned off") {
		t.Errorf("relay off by reload: %v", err)
	}
}
