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
	"sync"
	"syscall"
	"time"

	"github.com/vacationd/vacationd/delivery"
	"github.com/vacationd/vacationd/relay"
	"github.com/vacationd/vacationd/sieve"
	"github.com/vacationd/vacationd/transport"
	"github.com/vacationd/vacationd/vacation"
)

func serveCommand() command {
	return command{name: "serve", usage: "run the LMTP service (flags or VACATIOND_* variables)", run: runServe}
}

// serveOptions are the flags of vacationd serve: the one definition of
// the service's configuration (see config.go). A new area of settings
// (ManageSieve, PostgreSQL, ...) keeps its fields in a struct of its own,
// in its own file, embedded here, and registers its flags from flags
// below with a one-line call. Settings a reload applies are handled by a
// reload hook (reload.go); all others take effect after a restart.
type serveOptions struct {
	config                               string
	lmtp, http, data, scripts, globalDir string
	httpTokenFile                        string
	scriptSource                         string
	lmtpSocketMode                       string
	lmtpSocketOwner, lmtpSocketGroup     string
	before, after, settings              listFlag
	proxy, proxyTrusted                  string
	proxyTimeout                         time.Duration
	deliverTo                            string
	fileintoDetail                       bool
	relay, relayTLS, relayAuthUser       string
	relayAuthPasswordFile, relayHelo     string
	relayProxy, relayProxySource         string
	relayTLSVerify                       bool
	relayWorkers                         int
	retryMin, retryMax, maxQueueAge      time.Duration
	healthMaxOutboxAge                   time.Duration
	noRelay                              bool
	hostname, logFormat, recipientDelim  string
	logLevel                             string
	extensions                           string
	maxMessageSize                       int64
	maxConns                             int
	maxConnsPerIP                        int
	// rateCounts are the backscatter limits' counts, kept across reloads
	// (set by serve, not a flag; nil means fresh counts).
	rateCounts                            *vacation.RateCounts
	maxInflightBytes                      int64
	greetTimeout                          time.Duration
	readTimeout, writeTimeout, sweepEvery time.Duration
	mailuOptions
	stateOptions
	manageSieveOptions
	sourceOptions
}

// defaultDataDir is where an installed vacationd keeps its database;
// `make run` and the tests pass --data.
const defaultDataDir = "/var/lib/vacationd"

func (o *serveOptions) flags(fs *flag.FlagSet) {
	fs.StringVar(&o.config, "config", "", "TOML `FILE` whose keys are these flags' names; flags and VACATIOND_* variables override it")
	fs.StringVar(&o.lmtp, "lmtp", "127.0.0.1:2424", "LMTP listen address: host:port or unix:PATH")
	checked(fs, &o.lmtpSocketMode, "lmtp-socket-mode", "0666", "permissions of the --lmtp unix socket (octal)", parses(parseSocketMode))
	fs.StringVar(&o.lmtpSocketOwner, "lmtp-socket-owner", "", "owner (user name or uid) of the --lmtp unix socket (empty: unchanged)")
	fs.StringVar(&o.lmtpSocketGroup, "lmtp-socket-group", "", "group (name or gid) of the --lmtp unix socket, e.g. postfix (empty: unchanged)")
	fs.StringVar(&o.http, "http", "", "HTTP address for /healthz, /metrics and the admin API; a bare :PORT binds loopback (empty: off)")
	fs.StringVar(&o.httpTokenFile, "http-token-file", "", "`FILE` holding the bearer token the admin API requires (all but /healthz and /metrics); without it the API is closed when --http is not loopback")
	fs.StringVar(&o.data, "data", defaultDataDir, "data directory (holds vacationd.db)")
	fs.StringVar(&o.scriptSource, "script-source", "", "where users' scripts come from: dir:PATH, dovecot-home:TEMPLATE, store or mailu:URL")
	fs.StringVar(&o.scripts, "scripts", "", "short for --script-source dir:`DIR` (DIR/<domain>/<local>.sieve or DIR/<address>.sieve)")
	fs.StringVar(&o.globalDir, "global-dir", "", "directory for :global includes")
	fs.Var(&o.before, "sieve-before", "script run before the user's (repeatable)")
	fs.Var(&o.after, "sieve-after", "script run after the user's (repeatable)")
	fs.Var(&o.settings, "o", "Pigeonhole setting NAME=VALUE (repeatable)")
	o.sourceOptions.flags(fs)
	checked(fs, &o.proxy, "proxy", "off", "PROXY protocol: off, optional or required", parses(transport.ParseProxyMode))
	checked(fs, &o.proxyTrusted, "proxy-trusted", "127.0.0.1/32,::1/128", "networks allowed to send PROXY headers (CIDR,...)", parses(transport.ParsePrefixes))
	fs.DurationVar(&o.proxyTimeout, "proxy-timeout", 3*time.Second, "time allowed for the PROXY header")
	checked(fs, &o.deliverTo, "deliver-to", "", "downstream LMTP: lmtp:HOST:PORT or lmtp:unix:PATH (empty: sidecar, consume)", func(v string) error {
		if v == "" {
			return nil
		}
		_, _, err := transport.ParseLMTPTarget(v)
		return err
	})
	fs.BoolVar(&o.fileintoDetail, "fileinto-detail", false, "forward fileinto \"X\" as local+X@domain")
	fs.StringVar(&o.relay, "relay", "", "SMTP relay HOST:PORT for replies and redirects (required unless --no-relay)")
	fs.BoolVar(&o.noRelay, "no-relay", false, "run without --relay: replies and redirects only queue in the outbox")
	fs.IntVar(&o.relayWorkers, "relay-workers", 4, "concurrent relay deliveries")
	fs.DurationVar(&o.retryMin, "retry-min", 30*time.Second, "first retry delay after a temporary failure")
	fs.DurationVar(&o.retryMax, "retry-max", time.Hour, "largest retry delay")
	fs.DurationVar(&o.maxQueueAge, "max-queue-age", 5*24*time.Hour, "drop outbox records older than this")
	checked(fs, &o.relayTLS, "relay-tls", "auto", "relay TLS: none, starttls, tls, or auto (STARTTLS when offered)", parses(transport.ParseTLSMode))
	fs.BoolVar(&o.relayTLSVerify, "relay-tls-verify", true, "verify the relay's certificate")
	fs.StringVar(&o.relayAuthUser, "relay-auth-user", "", "SMTP AUTH user")
	fs.StringVar(&o.relayAuthPasswordFile, "relay-auth-password-file", "", "file holding the SMTP AUTH password")
	fs.StringVar(&o.relayHelo, "relay-helo", "", "EHLO name toward the relay (default: --hostname)")
	checked(fs, &o.relayProxy, "relay-proxy", "off", "PROXY header toward the relay: off, v1 or v2", parses(transport.ParseProxyVersion))
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
	checked(fs, &o.logLevel, "log-level", "info", "least severe log level: debug, info, warn or error", parses(parseLogLevel))
	fs.StringVar(&o.recipientDelim, "recipient-delimiter", "", "detail delimiter(s) in local parts, e.g. +")
	checked(fs, &o.extensions, "extensions", "", "Sieve extensions changed from Pigeonhole's default set, as sieve_extensions: \"+vacation-seconds +editheader\"",
		func(v string) error { return sieve.CheckExtensions(nil, v) })
	fs.Int64Var(&o.maxMessageSize, "max-message-size", 50<<20, "largest message accepted (SIZE)")
	fs.IntVar(&o.maxConns, "max-conns", 256, "LMTP connections served at once")
	fs.IntVar(&o.maxConnsPerIP, "max-conns-per-ip", 64, "LMTP connections served at once from one client address (unix sockets and trusted PROXY peers are not counted; -1: no limit)")
	fs.Int64Var(&o.maxInflightBytes, "max-inflight-bytes", 0, "message bytes held in memory by all LMTP sessions at once; past it MAIL and DATA get 452 (0: 4 x --max-message-size; -1: no bound)")
	fs.DurationVar(&o.greetTimeout, "greet-timeout", 30*time.Second, "time a new LMTP connection has to send its first command (shorter than --read-timeout)")
	fs.DurationVar(&o.readTimeout, "read-timeout", 5*time.Minute, "LMTP read timeout")
	fs.DurationVar(&o.writeTimeout, "write-timeout", time.Minute, "LMTP write timeout")
	fs.DurationVar(&o.sweepEvery, "sweep-every", 10*time.Minute, "how often expired dedup records are deleted")
	o.mailuOptions.flags(fs)
	o.stateOptions.flags(fs)
	o.manageSieveOptions.flags(fs)
}

func runServe(args []string, stdout, stderr io.Writer) int {
	tuneGC()
	environ := os.Environ()
	cfg, err := loadConfig(args, environ, stderr)
	if err != nil {
		return configError(stderr, "serve", err)
	}
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGTERM, syscall.SIGINT)
	defer stop()
	hup := make(chan os.Signal, 1)
	signal.Notify(hup, syscall.SIGHUP)
	defer signal.Stop(hup)
	load := func() (*config, error) { return loadConfig(args, environ, io.Discard) }
	if err := serve(ctx, cfg, load, hup, stderr); err != nil {
		fmt.Fprintf(stderr, "vacationd serve: %v\n", err)
		return 1
	}
	return 0
}

// configError reports a configuration error of command name and returns
// the exit status: the flag package has already printed its own errors.
func configError(stderr io.Writer, name string, err error) int {
	var pe parseError
	if !errors.As(err, &pe) {
		fmt.Fprintf(stderr, "vacationd %s: %v\n", name, err)
	}
	return 2
}

// serve runs the service until ctx ends, then shuts down gracefully: stop
// accepting, finish sessions in flight, stop the relay, close the database.
// Every value received on hup reloads the configuration with load (see
// reloader).
func serve(ctx context.Context, cfg *config, load func() (*config, error), hup <-chan os.Signal, logOut io.Writer) error {
	o := cfg.opts
	level := new(slog.LevelVar)
	lv, err := parseLogLevel(o.logLevel)
	if err != nil {
		return fmt.Errorf("--log-level: %w", err)
	}
	level.Set(lv)
	hopts := &slog.HandlerOptions{Level: level}
	var handler slog.Handler = slog.NewTextHandler(logOut, hopts)
	if o.logFormat == "json" {
		handler = slog.NewJSONHandler(logOut, hopts)
	} else if o.logFormat != "text" {
		return fmt.Errorf("--log-format %q: want text or json", o.logFormat)
	}
	log := slog.New(handler)
	for _, warn := range cfg.warnings {
		log.Warn(warn)
	}
	if err := checkStart(o); err != nil {
		return err
	}
	mode, err := transport.ParseProxyMode(o.proxy)
	if err != nil {
		return err
	}
	trusted, err := transport.ParsePrefixes(o.proxyTrusted)
	if err != nil {
		return fmt.Errorf("--proxy-trusted: %w", err)
	}
	db, err := openState(o.state, o.data, true, 0, log)
	if err != nil {
		return err
	}
	defer db.Close()

	reg := newRegistry()
	var down delivery.Downstream
	if o.deliverTo != "" {
		fw, err := newDownstream(o.deliverTo, hostname(o), o.maxConns, log)
		if err != nil {
			return err
		}
		defer fw.Close()
		down = fw
	}
	rel := newReloader(cfg, load, log)
	rel.register("log-level", []string{"log-level"}, func(c *config) (func(), error) {
		l, err := parseLogLevel(c.opts.logLevel)
		if err != nil {
			return nil, err
		}
		return func() { level.Set(l) }, nil
	})
	deliverer := &swapDeliverer{}
	dm := delivery.NewMetrics(reg)
	counts := vacation.NewRateCounts() // kept across reloads
	newService := func(c *config) (*delivery.Service, error) {
		opts := *c.opts
		opts.rateCounts = counts
		opts.hostname = o.hostname // the LMTP greeting keeps it too: a restart changes it
		return newDeliveryService(&opts, db, down, dm, log)
	}
	svc, err := newService(cfg)
	if err != nil {
		return err
	}
	deliverer.set(svc)
	rel.register("delivery", deliveryFlags, func(c *config) (func(), error) {
		svc, err := newService(c)
		if err != nil {
			return nil, err
		}
		return func() { deliverer.set(svc) }, nil
	})
	srv, err := transport.NewServer(transport.Config{
		Deliverer: deliverer, Hostname: hostname(o), MaxMessageBytes: o.maxMessageSize, MaxConns: o.maxConns,
		MaxConnsPerIP: o.maxConnsPerIP, MaxInflightBytes: o.maxInflightBytes, GreetTimeout: o.greetTimeout,
		ReadTimeout: o.readTimeout, WriteTimeout: o.writeTimeout,
		Proxy: mode, ProxyTrusted: trusted, ProxyTimeout: o.proxyTimeout, Logger: log,
	})
	if err != nil {
		return err
	}
	ln, err := listenLMTP(o)
	if err != nil {
		return err
	}
	sub, err := newSubmissionListener(o, db, reg, log)
	if err != nil {
		ln.Close()
		return err
	}
	defer sub.close()
	if ln, err = allowLMTP(ln, o, log); err != nil {
		return err
	}
	registerServiceMetrics(reg, srv, db)
	ms, msl, err := newManageSieve(o, db, rel, reg, log)
	if err != nil {
		ln.Close()
		return err
	}

	// Every listener is up before any background work starts, so a failed
	// start leaves nothing half-running (no relay sending while the
	// process exits).
	var hs *http.Server
	var hl net.Listener
	var rl *relay.Relay // made below; /healthz reads it once serving
	if o.http != "" {
		tok, err := apiTokenReloadable(cfg, rel)
		if err != nil {
			ln.Close()
			return err
		}
		mgr, err := scriptsAPIManager(o, db, rel, log)
		if err != nil {
			ln.Close()
			return err
		}
		hs = &http.Server{Handler: requireToken(withScriptsAPI(httpHandler(reg, db, o.healthMaxOutboxAge, relayHealth(&rl, o.healthMaxOutboxAge)), mgr), tok), ReadHeaderTimeout: 10 * time.Second}
		hl, err = net.Listen("tcp", httpAddr(o.http))
		if err != nil {
			ln.Close()
			return fmt.Errorf("http listen: %w", err)
		}
	}
	var sender *sharedSender
	if o.relay != "" {
		rl, sender, err = newRelay(o, db, reg, rel, log)
		if err != nil {
			ln.Close()
			if hl != nil {
				hl.Close()
			}
			return err
		}
		defer sender.closeAll() // after the relay has stopped (wg.Wait below)
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
	if ms != nil {
		go func() {
			if err := ms.Serve(msl); err != nil {
				log.Error("managesieve server", "error", err)
			}
		}()
		defer ms.Close()
	}
	if hs != nil {
		go func() {
			if err := hs.Serve(hl); err != nil && !errors.Is(err, http.ErrServerClosed) {
				log.Error("http server", "error", err)
			}
		}()
	}
	if o.relay == "" {
		log.Warn("no --relay (--no-relay): replies and redirects only queue in the outbox")
	}
	log.Info("vacationd serving", "version", buildVersion().Version, "lmtp", o.lmtp, "http", o.http, "data", o.data, "scripts", scriptSpec(o),
		"proxy", mode.String(), "managesieve", o.manageSieve, "relay", o.relay, "deliver_to", o.deliverTo, "config", o.config)
	logMailu(o, os.Environ(), log)
	serveErr := make(chan error, 2)
	go func() { serveErr <- srv.Serve(ln) }()
	sub.serve(serveErr)
	var failed error
loop:
	for {
		select {
		case <-ctx.Done():
			break loop
		case <-hup:
			rel.reload()
		case err := <-serveErr:
			if err != nil {
				// The LMTP server died on its own: shut down the rest and exit
				// non-zero, so a supervisor restarts the service.
				log.Error("lmtp server stopped", "error", err)
				failed = fmt.Errorf("lmtp server: %w", err)
			}
			break loop
		}
	}
	log.Info("shutting down")
	sctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if err := srv.Shutdown(sctx); err != nil {
		log.Warn("lmtp shutdown", "error", err)
	}
	sub.shutdown(sctx)
	if hs != nil {
		hs.Shutdown(sctx)
	}
	if ms != nil {
		ms.Shutdown(sctx)
	}
	cancelBG()
	wg.Wait()
	return failed
}
