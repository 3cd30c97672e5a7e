package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/netip"
	"os"
	"strings"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/vacationd/vacationd/relay"
	"github.com/vacationd/vacationd/store"
	"github.com/vacationd/vacationd/transport"
)

// newDownstream connects kept messages to the downstream LMTP server. Its
// pool keeps as many idle sessions as LMTP sessions may forward at once
// (--max-conns), so a busy front door never closes one to open another.
func newDownstream(target, hostname string, sessions int, log *slog.Logger) (*transport.Forwarder, error) {
	f, err := transport.NewForwarder(transport.ForwarderConfig{Target: target, LHLOName: hostname, MaxIdle: sessions, Logger: log})
	if err != nil {
		return nil, fmt.Errorf("--deliver-to: %w", err)
	}
	return f, nil
}

// relayConnFlags are the settings of the connection to the relay, which
// a reload applies to the next connections (a new Sender).
var relayConnFlags = []string{
	"relay", "relay-tls", "relay-tls-verify", "relay-auth-user", "relay-auth-password-file",
	"relay-helo", "relay-proxy", "relay-proxy-source",
}

// newSender builds the SMTP client toward --relay; the password file is
// read here, so a reload reads it again.
func newSender(o *serveOptions, log *slog.Logger) (*transport.Sender, error) {
	tlsMode, err := transport.ParseTLSMode(o.relayTLS)
	if err != nil {
		return nil, err
	}
	pv, err := transport.ParseProxyVersion(o.relayProxy)
	if err != nil {
		return nil, err
	}
	cfg := transport.SenderConfig{
		Addr: o.relay, HeloName: o.relayHelo, TLS: tlsMode, TLSInsecureSkipVerify: !o.relayTLSVerify,
		AuthUser: o.relayAuthUser, Proxy: pv, MaxIdle: o.relayWorkers, Logger: log,
	}
	if cfg.HeloName == "" {
		cfg.HeloName = o.hostname
	}
	if o.relayAuthUser != "" && o.relayAuthPasswordFile == "" {
		return nil, errors.New("--relay-auth-user needs --relay-auth-password-file (the password)")
	}
	if o.relayAuthPasswordFile != "" {
		b, err := os.ReadFile(o.relayAuthPasswordFile)
		if err != nil {
			return nil, fmt.Errorf("--relay-auth-password-file: %w", err)
		}
		cfg.AuthPassword = strings.TrimRight(string(b), "\r\n")
	}
	if o.relayProxySource != "" {
		a, err := netip.ParseAddr(o.relayProxySource)
		if err != nil {
			return nil, fmt.Errorf("--relay-proxy-source: %w", err)
		}
		cfg.ProxySource = a
	}
	return transport.NewSender(cfg)
}

// newRelay builds the outbox relay from the flags and registers the
// reload of its connection settings; the returned sender is shared by the
// workers and closed by the caller after the relay stopped.
func newRelay(o *serveOptions, db store.State, reg prometheus.Registerer, rel *reloader, log *slog.Logger) (*relay.Relay, *sharedSender, error) {
	s, err := newSender(o, log)
	if err != nil {
		return nil, nil, err
	}
	shared := &sharedSender{}
	shared.cur.Store(s)
	r, err := relay.New(relay.Config{
		DB: db, NewSender: func() relay.Sender { return shared }, IsTemporary: transport.IsTemporary, Cause: transport.FailureCause,
		Unsendable: func(err error) bool {
			c := transport.FailureCause(err)
			return c == transport.CauseSMTPUTF8 || c == transport.CauseEnvelope
		},
		Workers: o.relayWorkers, RetryMin: o.retryMin, RetryMax: o.retryMax, MaxAge: o.maxQueueAge, Lease: o.relayLease,
		Logger: log, Metrics: relay.NewMetrics(reg),
	})
	if err != nil {
		s.Close()
		return nil, nil, err
	}
	rel.register("relay", relayConnFlags, func(c *config) (func(), error) {
		if c.opts.relay == "" {
			return nil, errors.New("--relay: cannot be turned off by a reload; restart with --no-relay")
		}
		s, err := newSender(c.opts, log)
		if err != nil {
			return nil, err
		}
		// A reload that changes how the relay is reached makes the
		// replies waiting for a retry due at once (relay.Flush): they
		// waited for the old settings. rel.cur is the configuration
		// applied so far (prepare runs under the reloader's lock).
		moved := false
		for _, f := range relayConnFlags {
			moved = moved || flagValue(rel.cur.fs, f) != flagValue(c.fs, f)
		}
		return func() {
			shared.swap(s)
			if moved {
				go flushAfterReload(db, log)
			}
		}, nil
	})
	return r, shared, nil
}

// flushAfterReload makes the outbox's waiting records due, logging how
// many.
func flushAfterReload(db store.Outbox, log *slog.Logger) {
	n, err := relay.Flush(db, time.Now())
	if err != nil {
		log.Error("reload: relay settings changed; making the waiting replies due failed", "made_due", n, "error", err)
		return
	}
	log.Info("reload: relay settings changed; waiting replies are due now", "made_due", n)
}

// sharedSender lets the workers share one pooled transport.Sender, which
// a reload replaces: sends in progress finish on the old one, whose
// connections then close.
type sharedSender struct {
	cur atomic.Pointer[transport.Sender]
}

func (s *sharedSender) Send(ctx context.Context, from string, to []string, msg []byte) error {
	return s.cur.Load().Send(ctx, from, to, msg)
}

// Close is the workers' close: the sender outlives them.
func (s *sharedSender) Close() error { return nil }

func (s *sharedSender) swap(n *transport.Sender) {
	if old := s.cur.Swap(n); old != nil {
		old.Close()
	}
}

// closeAll closes the current sender, once the relay has stopped.
func (s *sharedSender) closeAll() error { return s.cur.Load().Close() }

// relayHealth is the /healthz line of the relay: its consecutive failures
// (connection, refusals of every recipient, 5xx at MAIL FROM, ...), shown
// as soon as there is one, failing the check once they have lasted longer
// than maxAge (0: never). *rl is read at each check: the relay is made
// after the HTTP handler.
func relayHealth(rl **relay.Relay, maxAge time.Duration) healthCheck {
	return func() (string, bool) {
		if *rl == nil {
			return "", false
		}
		h := (*rl).Health()
		if h.Failures == 0 {
			return "", false
		}
		line := fmt.Sprintf("relay: %d consecutive failures since %s; last: %s",
			h.Failures, h.Since.UTC().Format(time.RFC3339), h.LastError)
		return line, maxAge > 0 && time.Since(h.Since) > maxAge
	}
}
