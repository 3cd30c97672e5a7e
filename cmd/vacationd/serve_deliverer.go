package main

import (
	"context"
	"fmt"
	"log/slog"
	"os"
	"strings"
	"sync/atomic"
	"time"

	"github.com/vacationd/vacationd/delivery"
	"github.com/vacationd/vacationd/sieve"
	"github.com/vacationd/vacationd/store"
	"github.com/vacationd/vacationd/transport"
	"github.com/vacationd/vacationd/vacation"
)

// deliveryFlags are the settings a reload applies by building a new
// delivery service (see swapDeliverer).
var deliveryFlags = []string{
	"scripts", "global-dir", "sieve-before", "sieve-after", "o", "recipient-delimiter",
	"extensions", "fileinto-detail", "script-source", "mailu", "mailu-admin",
	"mailbox-dir", "list-dir", "doveadm-url", "doveadm-api-key-file",
}

// hostname is --hostname, or the machine's name.
func hostname(o *serveOptions) string {
	if o.hostname != "" {
		return o.hostname
	}
	h, _ := os.Hostname()
	return h
}

// serveSettings are the Pigeonhole settings of serve: -o, and
// --recipient-delimiter as recipient_delimiter; vs are the vacation
// settings read from them. A value serve cannot use is an error, so
// `vacationd check --config` refuses what the start would refuse.
func serveSettings(o *serveOptions) (settings sieve.Settings, vs vacation.Settings, err error) {
	settings, err = delivery.ParseSettings(o.settings)
	if err != nil {
		return nil, vs, fmt.Errorf("-o: %w", err)
	}
	if o.recipientDelim != "" {
		settings["recipient_delimiter"] = o.recipientDelim
	}
	if vs, err = vacation.ParseSettings(settings); err != nil {
		return nil, vs, fmt.Errorf("-o: %w", err)
	}
	return settings, vs, nil
}

// userDelimiter is the detail delimiter serve cuts from a recipient to
// find its user: --recipient-delimiter, else -o recipient_delimiter, as
// `vacationd test` reads it. Without either, the whole local part is the
// user's.
func userDelimiter(settings sieve.Settings) string {
	return settings.String("recipient_delimiter", "")
}

// newDeliveryService builds the per-recipient pipeline from the options.
// It is called at start and on every reload; a reload uses the new
// service for messages that arrive after it. A script source that cannot
// be used fails it, so a typo stops the start (or the reload).
func newDeliveryService(o *serveOptions, db store.State, down delivery.Downstream, m *delivery.Metrics, log *slog.Logger) (*delivery.Service, error) {
	settings, vs, err := serveSettings(o)
	if err != nil {
		return nil, err
	}
	delim := userDelimiter(settings)
	counts := o.rateCounts
	if counts == nil {
		counts = vacation.NewRateCounts()
	}
	src, err := serveSource(o, db, m.Mailu)
	if err != nil {
		return nil, err
	}
	userSources, runner, err := serveSources(o, db, settings)
	if err != nil {
		return nil, err
	}
	return delivery.New(delivery.Config{
		Source:             src,
		Compiler:           newCompiler(settings, o.extensions, globalResolver(o.globalDir), log),
		RecipientDelimiter: delim, Settings: settings,
		Store: db,
		Responder: &vacation.Responder{Settings: vs, Dedup: delivery.StoreDedup{DB: db}, Hostname: hostname(o),
			Limiter: replyLimiter(db, vacation.RateLimit{PerAddress: vs.MaxRepliesPerAddress, PerMinute: vs.MaxRepliesPerMinute,
				Delimiters: delim, Counts: counts}, m, log)},
		Downstream:     down,
		Sources:        userSources,
		Programs:       runner,
		FileintoDetail: o.fileintoDetail,
		NoReceived:     o.mailu,
		Shadow:         mailuShadow(o),
		Hostname:       hostname(o),
		Logger:         log,
		Metrics:        m,
	})
}

// replyLimiter is the backscatter limiter of serve: local's limits counted
// in the state when the state keeps counts for several replicas
// (PostgreSQL), with local's counts as the fallback; local itself when it
// does not (bbolt: one process, whose memory sees every reply). local's
// counts outlive reloads either way.
func replyLimiter(db store.State, local vacation.RateLimit, m *delivery.Metrics, log *slog.Logger) vacation.Limiter {
	if rl, ok := db.(store.ReplyLimits); ok {
		return &delivery.SharedLimit{Store: rl, Local: local, Logger: log, Fallbacks: m.LimitFallbacks}
	}
	return local
}

// scriptSpec is --script-source, or dir:DIR for --scripts DIR.
func scriptSpec(o *serveOptions) string {
	if o.scripts != "" && o.scriptSource == "" {
		return "dir:" + o.scripts
	}
	if o.scriptSource == "" && o.manageSieve != "" {
		return "store" // what ManageSieve uploads is what runs
	}
	return o.scriptSource
}

// serveSource is the script source of serve: --script-source, or
// --scripts DIR as its short form, between --sieve-before and
// --sieve-after scripts.
func serveSource(o *serveOptions, db store.Scripts, mm *delivery.MailuMetrics) (delivery.Source, error) {
	switch {
	case o.scriptSource != "" && o.scripts != "":
		return nil, fmt.Errorf("--scripts and --script-source both given: --scripts DIR is short for --script-source dir:DIR")
	case scriptSpec(o) == "":
		return nil, fmt.Errorf("no script source: give --script-source (dir:PATH, dovecot-home:TEMPLATE or store) or --scripts DIR")
	}
	personal, err := scriptSource(scriptSpec(o), db, mm)
	if err != nil {
		if o.scripts != "" {
			return nil, fmt.Errorf("--scripts: %w", err)
		}
		return nil, fmt.Errorf("--script-source: %w", err)
	}
	if kind, _, _ := strings.Cut(scriptSpec(o), ":"); kind == "dir" || kind == "dovecot-home" {
		// Files are looked at once a second per user, not per message.
		personal = &delivery.Cached{Source: personal, TTL: scriptRecheck}
	}
	return scriptAround(personal, o.before, o.after)
}

// scriptRecheck is how long serve uses script files (a user's, and
// --sieve-before/--sieve-after) without looking at them again: a changed
// script runs from the next message a second later at the latest.
const scriptRecheck = time.Second

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
