package main

import (
	"context"
	"crypto/tls"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"slices"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/vacationd/vacationd/auth"
	"github.com/vacationd/vacationd/delivery"
	"github.com/vacationd/vacationd/scripts"
	"github.com/vacationd/vacationd/store"
	"github.com/vacationd/vacationd/transport"
	"github.com/vacationd/vacationd/transport/managesieve"
)

// manageSieveOptions are the flags of the ManageSieve listener.
type manageSieveOptions struct {
	manageSieve, manageSieveTrusted, manageSieveProxy string
	auth, tlsCert, tlsKey                             string
	manageSieveMaxScripts, manageSieveMaxConnsPerIP   int
	manageSieveMaxScriptSize                          int64
	manageSieveAuthFailDelay                          time.Duration
}

// manageSieveReloadFlags are applied by a reload: the certificate is
// read again, and the --auth backend reopened (a passwd-file reread).
var manageSieveReloadFlags = []string{"tls-cert", "tls-key", "auth"}

func (m *manageSieveOptions) flags(fs *flag.FlagSet) {
	fs.StringVar(&m.manageSieve, "managesieve", "", "ManageSieve (RFC 5804) listen address, e.g. :4190 (empty: off); turns --script-source store on by default")
	fs.StringVar(&m.auth, "auth", "", "ManageSieve logins: passwd-file:`PATH` (Dovecot format) or dovecot:SOCKET (Dovecot's auth-client socket)")
	fs.StringVar(&m.tlsCert, "tls-cert", "", "PEM certificate chain for ManageSieve STARTTLS (reloaded on SIGHUP)")
	fs.StringVar(&m.tlsKey, "tls-key", "", "PEM private key for --tls-cert")
	checked(fs, &m.manageSieveTrusted, "managesieve-trusted", "", "networks (CIDR,...) besides loopback allowed to log in with a password before STARTTLS", parses(transport.ParsePrefixes))
	checked(fs, &m.manageSieveProxy, "managesieve-proxy", "off", "PROXY protocol on the ManageSieve listener: off, optional or required (trusted networks: --proxy-trusted)", parses(transport.ParseProxyMode))
	fs.IntVar(&m.manageSieveMaxScripts, "managesieve-max-scripts", 32, "scripts a user may store (0: no limit)")
	fs.Int64Var(&m.manageSieveMaxScriptSize, "managesieve-max-script-size", 1<<20, "largest script a user may store, in bytes")
	fs.IntVar(&m.manageSieveMaxConnsPerIP, "managesieve-max-conns-per-ip", 10, "ManageSieve connections from one client address at once")
	fs.DurationVar(&m.manageSieveAuthFailDelay, "managesieve-auth-fail-delay", 2*time.Second, "pause before answering a failed ManageSieve login")
}

// manageSieveBackend is the Backend whose checker and script manager a
// reload replaces; sessions already logged in keep theirs.
type manageSieveBackend struct {
	cur atomic.Pointer[scripts.SieveBackend]
}

func (b *manageSieveBackend) Login(ctx context.Context, c managesieve.ConnInfo, authzid, user, password string) (managesieve.Session, error) {
	return b.cur.Load().Login(ctx, c, authzid, user, password)
}

// scriptManager is the policy over stored scripts shared by ManageSieve,
// `vacationd script` and the admin API: it compiles with serve's own
// compiler, so a script is stored only if delivery would run it.
func scriptManager(o *serveOptions, st store.Scripts, log *slog.Logger) (*scripts.Manager, error) {
	settings, err := delivery.ParseSettings(o.settings)
	if err != nil {
		return nil, fmt.Errorf("-o: %w", err)
	}
	return &scripts.Manager{
		Store:      st,
		Compiler:   newCompiler(settings, o.extensions, globalResolver(o.globalDir), log),
		MaxSize:    o.manageSieveMaxScriptSize,
		MaxScripts: o.manageSieveMaxScripts,
	}, nil
}

// sieveCapabilities are what the SIEVE, NOTIFY and MAXREDIRECTS
// capabilities announce for scripts compiled by comp.
func sieveCapabilities(comp *delivery.Compiler) managesieve.Capabilities {
	c := managesieve.Capabilities{Extensions: comp.Capabilities(), MaxRedirects: comp.MaxRedirects()}
	if slices.Contains(c.Extensions, "enotify") {
		c.Notify = []string{"mailto"}
	}
	return c
}

// newManageSieve builds the ManageSieve server and opens its listener,
// or returns nils when --managesieve is off.
func newManageSieve(o *serveOptions, st store.Scripts, rel *reloader, reg prometheus.Registerer, log *slog.Logger) (*managesieve.Server, net.Listener, error) {
	if o.manageSieve == "" {
		return nil, nil, nil
	}
	if o.auth == "" {
		return nil, nil, errors.New("--managesieve needs --auth passwd-file:PATH or --auth dovecot:SOCKET")
	}
	if (o.tlsCert == "") != (o.tlsKey == "") {
		return nil, nil, errors.New("--tls-cert and --tls-key go together")
	}
	if spec := scriptSpec(o); spec != "store" {
		log.Warn("--managesieve is on but scripts come from elsewhere: what users upload is stored, not run", "script_source", spec)
	}
	build := func(c *serveOptions) (*scripts.SieveBackend, *transport.CertFile, error) {
		checker, err := auth.Open(c.auth, log)
		if err != nil {
			return nil, nil, fmt.Errorf("--auth: %w", err)
		}
		m, err := scriptManager(c, st, log)
		if err != nil {
			return nil, nil, err
		}
		var cert *transport.CertFile
		if c.tlsCert != "" {
			if cert, err = transport.LoadCertFile(c.tlsCert, c.tlsKey); err != nil {
				return nil, nil, err
			}
		}
		return &scripts.SieveBackend{Manager: m, Auth: checker}, cert, nil
	}
	be, cert, err := build(o)
	if err != nil {
		return nil, nil, err
	}
	backend := &manageSieveBackend{}
	backend.cur.Store(be)
	var certCur atomic.Pointer[transport.CertFile]
	var tlsConf *tls.Config
	if cert != nil {
		certCur.Store(cert)
		tlsConf = &tls.Config{MinVersion: tls.VersionTLS12, GetCertificate: func(h *tls.ClientHelloInfo) (*tls.Certificate, error) {
			return certCur.Load().GetCertificate(h)
		}}
	}
	var srv *managesieve.Server // set below, before any reload can run
	rel.register("managesieve", manageSieveReloadFlags, func(c *config) (func(), error) {
		if c.opts.tlsCert != "" && tlsConf == nil {
			return nil, errors.New("--tls-cert: STARTTLS was off at start; restart to turn it on")
		}
		be, cert, err := build(c.opts)
		if err != nil {
			return nil, err
		}
		return func() {
			srv.SetCapabilities(sieveCapabilities(be.Manager.Compiler))
			old := backend.cur.Swap(be)
			if c, ok := old.Auth.(io.Closer); ok {
				// A Dovecot auth connection; logins in progress on it get
				// a temporary failure and the client retries.
				c.Close()
			}
			if cert != nil {
				certCur.Store(cert)
			}
		}, nil
	})
	mtrusted, err := transport.ParsePrefixes(o.manageSieveTrusted)
	if err != nil {
		return nil, nil, fmt.Errorf("--managesieve-trusted: %w", err)
	}
	pmode, err := transport.ParseProxyMode(o.manageSieveProxy)
	if err != nil {
		return nil, nil, fmt.Errorf("--managesieve-proxy: %w", err)
	}
	ptrusted, err := transport.ParsePrefixes(o.proxyTrusted)
	if err != nil {
		return nil, nil, fmt.Errorf("--proxy-trusted: %w", err)
	}
	srv, err = managesieve.NewServer(managesieve.Config{
		Backend:       backend,
		TLS:           tlsConf,
		Trusted:       mtrusted,
		MaxScriptSize: o.manageSieveMaxScriptSize,
		MaxConnsPerIP: o.manageSieveMaxConnsPerIP,
		AuthFailDelay: o.manageSieveAuthFailDelay,
		Proxy: transport.ProxyGate{Mode: pmode, Trusted: ptrusted, Timeout: o.proxyTimeout,
			Reject: func(peer net.Addr, cause transport.RejectCause, err error) {
				log.Warn("managesieve: PROXY header rejected, connection closed", "peer", peer.String(), "cause", cause.String(), "err", err)
			}},
		Logger: log,
	})
	if err != nil {
		return nil, nil, err
	}
	srv.SetCapabilities(sieveCapabilities(be.Manager.Compiler))
	ln, err := transport.Listen(o.manageSieve)
	if err != nil {
		return nil, nil, fmt.Errorf("managesieve: %w", err)
	}
	for _, m := range []struct {
		name, help string
		f          func(managesieve.Stats) uint64
	}{
		{"vacationd_managesieve_connections_total", "ManageSieve connections accepted.", func(s managesieve.Stats) uint64 { return s.Accepted }},
		{"vacationd_managesieve_connections_refused_total", "ManageSieve connections refused by the connection limits.", func(s managesieve.Stats) uint64 { return s.Refused }},
		{"vacationd_managesieve_auth_failures_total", "Failed ManageSieve logins.", func(s managesieve.Stats) uint64 { return s.AuthFailed }},
	} {
		reg.MustRegister(prometheus.NewCounterFunc(prometheus.CounterOpts{Name: m.name, Help: m.help}, func() float64 { return float64(m.f(srv.Stats())) }))
	}
	reg.MustRegister(prometheus.NewGaugeFunc(prometheus.GaugeOpts{Name: "vacationd_managesieve_connections_active", Help: "ManageSieve connections open now."},
		func() float64 { return float64(srv.Stats().Active) }))
	return srv, ln, nil
}
