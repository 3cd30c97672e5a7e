package main

import (
	"context"
	"fmt"
	"log/slog"
	"net"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/vacationd/vacationd/delivery"
	"github.com/vacationd/vacationd/store"
	"github.com/vacationd/vacationd/transport"
)

// allowLMTP restricts the --lmtp listener to --lmtp-allow; on error it
// closes ln.
func allowLMTP(ln net.Listener, o *serveOptions, log *slog.Logger) (net.Listener, error) {
	if o.lmtpAllow == "" {
		return ln, nil
	}
	nets, err := transport.ParsePrefixes(o.lmtpAllow)
	if err != nil {
		ln.Close()
		return nil, fmt.Errorf("--lmtp-allow: %w", err)
	}
	return transport.AllowFrom(ln, nets, log), nil
}

// submissionListener is the --submission SMTP listener: Dovecot's
// submission_host (see delivery.Submission). A nil one (no --submission)
// does nothing.
type submissionListener struct {
	srv *transport.Server
	ln  net.Listener
}

// newSubmissionListener opens --submission; nil when it is not set.
func newSubmissionListener(o *serveOptions, db store.State, reg prometheus.Registerer, log *slog.Logger) (*submissionListener, error) {
	if o.submission == "" {
		return nil, nil
	}
	allowed, err := transport.ParsePrefixes(o.submissionAllow)
	if err != nil {
		return nil, fmt.Errorf("--submission-allow: %w", err)
	}
	settings, _, err := serveSettings(o)
	if err != nil {
		return nil, err
	}
	sub, err := delivery.NewSubmission(delivery.SubmissionConfig{
		State: db, Allowed: allowed, RecipientDelimiter: userDelimiter(settings),
		Logger: log.With("listener", "submission"), Metrics: delivery.NewSubmissionMetrics(reg),
	})
	if err != nil {
		return nil, err
	}
	srv, err := transport.NewServer(transport.Config{
		Deliverer: sub, SMTP: true, Hostname: hostname(o), MaxMessageBytes: o.maxMessageSize, MaxConns: o.maxConns,
		ReadTimeout: o.readTimeout, WriteTimeout: o.writeTimeout, Logger: log.With("listener", "submission"),
	})
	if err != nil {
		return nil, err
	}
	ln, err := transport.Listen(o.submission)
	if err != nil {
		return nil, fmt.Errorf("--submission: %w", err)
	}
	return &submissionListener{srv: srv, ln: transport.AllowFrom(ln, allowed, log)}, nil
}

// serve serves the listener in the background; a server that stops on
// its own reports on errc, as the LMTP server does.
func (s *submissionListener) serve(errc chan<- error) {
	if s == nil {
		return
	}
	go func() {
		if err := s.srv.Serve(s.ln); err != nil {
			select {
			case errc <- fmt.Errorf("submission: %w", err):
			default:
			}
		}
	}()
}

// shutdown stops accepting and waits for the sessions in flight.
func (s *submissionListener) shutdown(ctx context.Context) {
	if s == nil {
		return
	}
	s.srv.Shutdown(ctx)
}

// close releases the listener when serve never ran.
func (s *submissionListener) close() {
	if s != nil {
		s.ln.Close()
	}
}
