package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/netip"
	"os"
	"os/signal"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/vacationd/vacationd/delivery"
	"github.com/vacationd/vacationd/metrics"
	"github.com/vacationd/vacationd/relay"
	"github.com/vacationd/vacationd/sieve"
	"github.com/vacationd/vacationd/store"
	"github.com/vacationd/vacationd/transport"
	"github.com/vacationd/vacationd/vacation"
)

func serveCommand() command {
	return command{name: "serve", usage: "run the LMTP service (flags or VACATIOND_* variables)", run: runServe}
}

// serveOptions are the flags of vacationd serve.
type serveOptions struct {
	lmtp, http, data, scripts, globalDir  string
	before, after, settings               listFlag
	proxy, proxyTrusted                   string
	proxyTimeout                          time.Duration
	deliverTo                             string
	fileintoDetail                        bool
	relay, relayTLS, relayAuthUser        string
	relayAuthPasswordFile, relayHelo      string
	relayProxy, relayProxySource          string
	relayTLSVerify                        bool
	relayWorkers                          int
	retryMin, retryMax, maxQueueAge       time.Duration
	healthMaxOutboxAge                    time.Duration
	hostname, logFormat, recipientDelim   string
	extensions                            string
	maxMessageSize                        int64
	maxConns                              int
	readTimeout, writeTimeout, sweepEvery time.Duration
}

func (o *serveOptions) flags(fs *flag.FlagSet) {
	fs.StringVar(&o.lmtp, "lmtp", "127.0.0.1:2424", "LMTP listen address: host:port or unix:PATH")
	fs.StringVar(&o.http, "http", "", "HTTP address for /healthz and /metrics (empty: off)")
	fs.StringVar(&o.data, "data", "./data", "data directory (holds vacationd.db)")
	fs.StringVar(&o.scripts, "scripts", "", "per-user scripts: DIR/<domain>/<local>.sieve or DIR/<address>.sieve")
	fs.StringVar(&o.globalDir, "global-dir", "", "directory for :global includes")
	fs.Var(&o.before, "sieve-before", "script run before the user's (repeatable)")
	fs.Var(&o.after, "sieve-after", "script run after the user's (repeatable)")
	fs.Var(&o.settings, "o", "Pigeonhole setting NAME=VALUE (repeatable)")
	checked(fs, &o.proxy, "proxy", "off", "PROXY protocol: off, optional or required", func(v string) error {
		_, err := transport.ParseProxyMode(v)
		return err
	})
	checked(fs, &o.proxyTrusted, "proxy-trusted", "127.0.0.1/32,::1/128", "networks allowed to send PROXY headers (CIDR,...)", func(v string) error {
		_, err := transport.ParsePrefixes(v)
		return err
	})
	fs.DurationVar(&o.proxyTimeout, "proxy-timeout", 3*time.Second, "time allowed for the PROXY header")
	checked(fs, &o.deliverTo, "deliver-to", "", "downstream LMTP: lmtp:HOST:PORT or lmtp:unix:PATH (empty: sidecar, consume)", func(v string) error {
		if v == "" {
			return nil
		}
		_, _, err := transport.ParseLMTPTarget(v)
		return err
	})
	fs.BoolVar(&o.fileintoDetail, "fileinto-detail", false, "forward fileinto \"X\" as local+X@domain")
	fs.StringVar(&o.relay, "relay", "", "SMTP relay HOST:PORT for replies and redirects (empty: queue only)")
	fs.IntVar(&o.relayWorkers, "relay-workers", 4, "concurrent relay deliveries")
	fs.DurationVar(&o.retryMin, "retry-min", 30*time.Second, "first retry delay after a temporary failure")
	fs.DurationVar(&o.retryMax, "retry-max", time.Hour, "largest retry delay")
	fs.DurationVar(&o.maxQueueAge, "max-queue-age", 5*24*time.Hour, "drop outbox records older than this")
	checked(fs, &o.relayTLS, "relay-tls", "auto", "relay TLS: none, starttls, tls, or auto (STARTTLS when offered)", func(v string) error {
		_, err := transport.ParseTLSMode(v)
		return err
	})
	fs.BoolVar(&o.relayTLSVerify, "relay-tls-verify", true, "verify the relay's certificate")
	fs.StringVar(&o.relayAuthUser, "relay-auth-user", "", "SMTP AUTH user")
	fs.StringVar(&o.relayAuthPasswordFile, "relay-auth-password-file", "", "file holding the SMTP AUTH password")
	fs.StringVar(&o.relayHelo, "relay-helo", "", "EHLO name toward the relay (default: --hostname)")
	checked(fs, &o.relayProxy, "relay-proxy", "off", "PROXY header toward the relay: off, v1 or v2", func(v string) error {
		_, err := transport.ParseProxyVersion(v)
		return err
	})
	checked(fs, &o.relayProxySource, "relay-proxy-source", "", "source address written in the relay PROXY header", func(v string) error {
		if v == "" {
			return nil
		}
		_, err := netip.ParseAddr(v)
		return err
	})
	fs.DurationVar(&o.healthMaxOutboxAge, "health-max-outbox-age", 15*time.Minute, "/healthz fails when the oldest outbox record is older")
	fs.StringVar(&o.hostname, "hostname", "", "host name for greetings, Message-IDs and Received (default: os.Hostname)")
	checked(fs, &o.logFormat, "log-format", "text", "log format: text or json", func(v string) error {
		if v != "text" && v != "json" {
			return fmt.Errorf("log format %q: want text or json", v)
		}
		return nil
	})
	fs.StringVar(&o.recipientDelim, "recipient-delimiter", "", "detail delimiter(s) in local parts, e.g. +")
	fs.StringVar(&o.extensions, "extensions", "+vacation-seconds +editheader", "Sieve extensions, as sieve_extensions")
	fs.Int64Var(&o.maxMessageSize, "max-message-size", 50<<20, "largest message accepted (SIZE)")
	fs.IntVar(&o.maxConns, "max-conns", 256, "LMTP connections served at once")
	fs.DurationVar(&o.readTimeout, "read-timeout", 5*time.Minute, "LMTP read timeout")
	fs.DurationVar(&o.writeTimeout, "write-timeout", time.Minute, "LMTP write timeout")
	fs.DurationVar(&o.sweepEvery, "sweep-every", 10*time.Minute, "how often expired dedup records are deleted")
}

func runServe(args []string, stdout, stderr io.Writer) int {
	var o serveOptions
	fs := flag.NewFlagSet("serve", flag.ContinueOnError)
	fs.SetOutput(stderr)
	o.flags(fs)
	if err := fs.Parse(args); err != nil {
		return 2
	}
	if err := applyEnv(fs, os.Environ()); err != nil {
		fmt.Fprintf(stderr, "vacationd serve: %v\n", err)
		return 2
	}
	if fs.NArg() > 0 {
		fmt.Fprintf(stderr, "vacationd serve: unexpected argument %q\n", fs.Arg(0))
		return 2
	}
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGTERM, syscall.SIGINT)
	defer stop()
	if err := serve(ctx, &o, stderr); err != nil {
		fmt.Fprintf(stderr, "vacationd serve: %v\n", err)
		return 1
	}
	return 0
}

// serve runs the service until ctx ends, then shuts down gracefully: stop
// accepting, finish sessions in flight, stop the relay, close the database.
func serve(ctx context.Context, o *serveOptions, logOut io.Writer) error {
	var handler slog.Handler = slog.NewTextHandler(logOut, nil)
	if o.logFormat == "json" {
		handler = slog.NewJSONHandler(logOut, nil)
	} else if o.logFormat != "text" {
		return fmt.Errorf("--log-format %q: want text or json", o.logFormat)
	}
	log := slog.New(handler)
	if o.hostname == "" {
		o.hostname, _ = os.Hostname()
	}
	settings, err := parseSettings(o.settings)
	if err != nil {
		return err
	}
	if o.recipientDelim != "" {
		settings["recipient_delimiter"] = o.recipientDelim
	}
	vs, err := vacation.ParseSettings(settings)
	if err != nil {
		return fmt.Errorf("settings: %w", err)
	}
	mode, err := transport.ParseProxyMode(o.proxy)
	if err != nil {
		return err
	}
	trusted, err := transport.ParsePrefixes(o.proxyTrusted)
	if err != nil {
		return fmt.Errorf("--proxy-trusted: %w", err)
	}
	if err := os.MkdirAll(o.data, 0o750); err != nil {
		return fmt.Errorf("data directory: %w", err)
	}
	db, err := store.Open(filepath.Join(o.data, "vacationd.db"), store.Options{Logger: log})
	if err != nil {
		return err
	}
	defer db.Close()

	reg := &metrics.Registry{}
	var down delivery.Downstream
	if o.deliverTo != "" {
		fw, err := newDownstream(o.deliverTo, o.hostname, log)
		if err != nil {
			return err
		}
		defer fw.Close()
		down = fw
	}
	svc, err := delivery.New(delivery.Config{
		ScriptsDir: o.scripts, Before: o.before, After: o.after, GlobalDir: o.globalDir,
		RecipientDelimiter: o.recipientDelim, Settings: settings, Extensions: o.extensions,
		Store:          db,
		Responder:      &vacation.Responder{Settings: vs, Dedup: delivery.StoreDedup{DB: db}, Hostname: o.hostname},
		Downstream:     down,
		FileintoDetail: o.fileintoDetail,
		Hostname:       o.hostname,
		Logger:         log,
		Metrics:        delivery.NewMetrics(reg),
	})
	if err != nil {
		return err
	}
	srv, err := transport.NewServer(transport.Config{
		Deliverer: svc, Hostname: o.hostname, MaxMessageBytes: o.maxMessageSize, MaxConns: o.maxConns,
		ReadTimeout: o.readTimeout, WriteTimeout: o.writeTimeout,
		Proxy: mode, ProxyTrusted: trusted, ProxyTimeout: o.proxyTimeout, Logger: log,
	})
	if err != nil {
		return err
	}
	ln, err := transport.Listen(o.lmtp)
	if err != nil {
		return err
	}
	registerServiceMetrics(reg, srv, db)

	// Every listener is up before any background work starts, so a failed
	// start leaves nothing half-running (no relay sending while the
	// process exits).
	var hs *http.Server
	var hl net.Listener
	if o.http != "" {
		hs = &http.Server{Addr: o.http, Handler: httpHandler(reg, db, o.healthMaxOutboxAge), ReadHeaderTimeout: 10 * time.Second}
		hl, err = net.Listen("tcp", o.http)
		if err != nil {
			ln.Close()
			return fmt.Errorf("http listen: %w", err)
		}
	}
	var (
		rl     *relay.Relay
		sender *transport.Sender
	)
	if o.relay != "" {
		rl, sender, err = newRelay(o, db, reg, log)
		if err != nil {
			ln.Close()
			if hl != nil {
				hl.Close()
			}
			return err
		}
		defer sender.Close() // after the relay has stopped (wg.Wait below)
	}

	var wg sync.WaitGroup
	bg, cancelBG := context.WithCancel(context.Background())
	defer wg.Wait()
	defer cancelBG()
	wg.Add(1)
	go func() {
		defer wg.Done()
		db.RunSweeper(bg, o.sweepEvery, time.Now)
	}()
	if rl != nil {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if err := rl.Run(bg); err != nil {
				log.Error("relay stopped", "error", err)
			}
		}()
	}
	if hs != nil {
		go func() {
			if err := hs.Serve(hl); err != nil && !errors.Is(err, http.ErrServerClosed) {
				log.Error("http server", "error", err)
			}
		}()
	}
	log.Info("vacationd serving", "lmtp", o.lmtp, "http", o.http, "data", o.data, "scripts", o.scripts,
		"proxy", mode.String(), "relay", o.relay, "deliver_to", o.deliverTo)
	serveErr := make(chan error, 1)
	go func() { serveErr <- srv.Serve(ln) }()
	var failed error
	select {
	case <-ctx.Done():
	case err := <-serveErr:
		if err != nil {
			// The LMTP server died on its own: shut down the rest and exit
			// non-zero, so a supervisor restarts the service.
			log.Error("lmtp server stopped", "error", err)
			failed = fmt.Errorf("lmtp server: %w", err)
		}
	}
	log.Info("shutting down")
	sctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if err := srv.Shutdown(sctx); err != nil {
		log.Warn("lmtp shutdown", "error", err)
	}
	if hs != nil {
		hs.Shutdown(sctx)
	}
	cancelBG()
	wg.Wait()
	return failed
}

// parseSettings reads -o NAME=VALUE pairs.
func parseSettings(list []string) (sieve.Settings, error) {
	s := sieve.Settings{}
	for _, kv := range list {
		k, v, ok := strings.Cut(kv, "=")
		if !ok || strings.TrimSpace(k) == "" {
			return nil, fmt.Errorf("-o %q: want NAME=VALUE", kv)
		}
		s[strings.TrimSpace(k)] = strings.TrimSpace(v)
	}
	return s, nil
}

func registerServiceMetrics(reg *metrics.Registry, srv *transport.Server, db *store.DB) {
	reg.NewCounterFunc("vacationd_lmtp_connections_total", "LMTP connections accepted.", "", func() map[string]uint64 {
		return map[string]uint64{"": srv.Stats().Accepted}
	})
	reg.NewCounterFunc("vacationd_lmtp_connections_refused_total", "LMTP connections refused because --max-conns were open.", "", func() map[string]uint64 {
		return map[string]uint64{"": srv.Stats().Busy}
	})
	reg.NewGaugeFunc("vacationd_lmtp_connections_active", "LMTP connections open now.", func() float64 {
		return float64(srv.Stats().Active)
	})
	reg.NewCounterFunc("vacationd_lmtp_messages_total", "LMTP messages received.", "", func() map[string]uint64 {
		return map[string]uint64{"": srv.Stats().Messages}
	})
	reg.NewCounterFunc("vacationd_proxy_rejected_total", "Connections closed during PROXY header processing, by cause.", "cause", func() map[string]uint64 {
		out := map[string]uint64{}
		for c, n := range srv.Stats().ProxyRejected {
			out[c] = n
		}
		return out
	})
	reg.NewGaugeFunc("vacationd_outbox_depth", "Messages waiting in the outbox.", func() float64 {
		n, _, _ := db.OutboxStats(time.Now())
		return float64(n)
	})
	reg.NewGaugeFunc("vacationd_outbox_oldest_seconds", "Age of the oldest outbox message.", func() float64 {
		_, age, _ := db.OutboxStats(time.Now())
		return age.Seconds()
	})
}
