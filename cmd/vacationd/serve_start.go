package main

import (
	"errors"
	"fmt"
	"log/slog"
	"net"
	"os"
	"strconv"
	"strings"

	"github.com/vacationd/vacationd/transport"
)

// checkStart refuses configurations that would run but not work: replies
// that can never leave, a scripts directory that is not there.
func checkStart(o *serveOptions) error {
	if o.relay == "" && !o.noRelay {
		return errors.New("no --relay: replies and redirects would queue forever; give --relay HOST:PORT, or --no-relay to only queue them")
	}
	if o.relay != "" && o.noRelay {
		return errors.New("--relay and --no-relay: choose one")
	}
	if _, err := parseSocketMode(o.lmtpSocketMode); err != nil {
		return fmt.Errorf("--lmtp-socket-mode: %w", err)
	}
	_, err := exposed(o.http)
	return err
}

// listenLMTP opens the --lmtp listener; a unix socket gets the mode,
// owner and group of --lmtp-socket-*, so Postfix's lmtp client (user
// postfix) can connect.
func listenLMTP(o *serveOptions) (net.Listener, error) {
	mode, err := parseSocketMode(o.lmtpSocketMode)
	if err != nil {
		return nil, fmt.Errorf("--lmtp-socket-mode: %w", err)
	}
	return transport.ListenWith(o.lmtp, transport.ListenOptions{Mode: mode, Owner: o.lmtpSocketOwner, Group: o.lmtpSocketGroup})
}

// parseSocketMode reads an octal permission like 0660.
func parseSocketMode(s string) (os.FileMode, error) {
	n, err := strconv.ParseUint(s, 8, 32)
	if err != nil || n > 0o777 {
		return 0, fmt.Errorf("mode %q: want octal permissions like 0660", s)
	}
	return os.FileMode(n), nil
}

// parseLogLevel reads debug, info, warn or error.
func parseLogLevel(s string) (slog.Level, error) {
	var l slog.Level
	switch strings.ToLower(s) {
	case "debug", "info", "warn", "error":
		err := l.UnmarshalText([]byte(s))
		return l, err
	}
	return 0, fmt.Errorf("log level %q: want debug, info, warn or error", s)
}

// httpAddr is the --http listen address: a bare :PORT or PORT binds the
// loopback interface, so the admin API is not exposed by accident;
// 0.0.0.0:PORT or [::]:PORT exposes it on purpose.
func httpAddr(s string) string {
	if _, err := strconv.Atoi(s); err == nil {
		return net.JoinHostPort("127.0.0.1", s)
	}
	if host, port, err := net.SplitHostPort(s); err == nil && host == "" {
		return net.JoinHostPort("127.0.0.1", port)
	}
	return s
}
