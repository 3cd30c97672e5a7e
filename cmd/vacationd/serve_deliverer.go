package main

import (
	"context"
	"fmt"
	"log/slog"
	"os"
	"sync/atomic"

	"github.com/vacationd/vacationd/delivery"
	"github.com/vacationd/vacationd/transport"
	"github.com/vacationd/vacationd/vacation"
)

// deliveryFlags are the settings a reload applies by building a new
// delivery service (see swapDeliverer).
var deliveryFlags = []string{
	"scripts", "global-dir", "sieve-before", "sieve-after", "o", "recipient-delimiter",
	"extensions", "fileinto-detail", "hostname",
}

// hostname is --hostname, or the machine's name.
func hostname(o *serveOptions) string {
	if o.hostname != "" {
		return o.hostname
	}
	h, _ := os.Hostname()
	return h
}

// newDeliveryService builds the per-recipient pipeline from the options.
// It is called at start and on every reload; a reload uses the new
// service for messages that arrive after it.
func newDeliveryService(o *serveOptions, db delivery.State, down delivery.Downstream, m *delivery.Metrics, log *slog.Logger) (*delivery.Service, error) {
	settings, err := parseSettings(o.settings)
	if err != nil {
		return nil, err
	}
	if o.recipientDelim != "" {
		settings["recipient_delimiter"] = o.recipientDelim
	}
	vs, err := vacation.ParseSettings(settings)
	if err != nil {
		return nil, fmt.Errorf("settings: %w", err)
	}
	return delivery.New(delivery.Config{
		ScriptsDir: o.scripts, Before: o.before, After: o.after, GlobalDir: o.globalDir,
		RecipientDelimiter: o.recipientDelim, Settings: settings, Extensions: o.extensions,
		Store:          db,
		Responder:      &vacation.Responder{Settings: vs, Dedup: delivery.StoreDedup{DB: db}, Hostname: hostname(o)},
		Downstream:     down,
		FileintoDetail: o.fileintoDetail,
		Hostname:       hostname(o),
		Logger:         log,
		Metrics:        m,
	})
}

// swapDeliverer is the LMTP server's Deliverer: it passes each message to
// the current delivery service, which a reload replaces. A message being
// delivered finishes with the service it started with; connections are
// never dropped.
type swapDeliverer struct {
	cur atomic.Pointer[delivery.Service]
}

func (d *swapDeliverer) set(s *delivery.Service) { d.cur.Store(s) }

// Deliver implements transport.Deliverer.
func (d *swapDeliverer) Deliver(ctx context.Context, env *transport.Envelope, msg []byte) []transport.Status {
	return d.cur.Load().Deliver(ctx, env, msg)
}

// CheckRcpt implements transport.RcptChecker when the service does.
func (d *swapDeliverer) CheckRcpt(ctx context.Context, env *transport.Envelope, rcpt transport.Recipient) *transport.Status {
	if rc, ok := any(d.cur.Load()).(transport.RcptChecker); ok {
		return rc.CheckRcpt(ctx, env, rcpt)
	}
	return nil
}
