package main

import (
	"errors"
	"fmt"
	"log/slog"
	"net"
	"os"
	"os/user"
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
	return nil
}

// listenLMTP opens the --lmtp listener; a unix socket gets the mode,
// owner and group of --lmtp-socket-*, so Postfix's lmtp client (user
// postfix) can connect.
func listenLMTP(o *serveOptions) (net.Listener, error) {
	ln, err := transport.Listen(o.lmtp)
	if err != nil {
		return nil, err
	}
	path, ok := strings.CutPrefix(o.lmtp, "unix:")
	if !ok {
		return ln, nil
	}
	if err := setSocketPerms(path, o); err != nil {
		ln.Close()
		return nil, err
	}
	return ln, nil
}

func setSocketPerms(path string, o *serveOptions) error {
	mode, err := parseSocketMode(o.lmtpSocketMode)
	if err != nil {
		return fmt.Errorf("--lmtp-socket-mode: %w", err)
	}
	uid, gid := -1, -1
	if o.lmtpSocketOwner != "" {
		if uid, err = lookupID(o.lmtpSocketOwner, func(n string) (string, error) {
			u, err := user.Lookup(n)
			if err != nil {
				return "", err
			}
			return u.Uid, nil
		}); err != nil {
			return fmt.Errorf("--lmtp-socket-owner: %w", err)
		}
	}
	if o.lmtpSocketGroup != "" {
		if gid, err = lookupID(o.lmtpSocketGroup, func(n string) (string, error) {
			g, err := user.LookupGroup(n)
			if err != nil {
				return "", err
			}
			return g.Gid, nil
		}); err != nil {
			return fmt.Errorf("--lmtp-socket-group: %w", err)
		}
	}
	if uid != -1 || gid != -1 {
		if err := os.Lchown(path, uid, gid); err != nil {
			return fmt.Errorf("lmtp socket: %w", err)
		}
	}
	if err := os.Chmod(path, mode); err != nil {
		return fmt.Errorf("lmtp socket: %w", err)
	}
	return nil
}

// lookupID resolves a user or group name, or takes a number as it is.
func lookupID(name string, lookup func(string) (string, error)) (int, error) {
	if n, err := strconv.Atoi(name); err == nil && n >= 0 {
		return n, nil
	}
	id, err := lookup(name)
	if err != nil {
		return 0, err
	}
	return strconv.Atoi(id)
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
